"""Rules for the party-member roster (党员名册): which rows of an imported sheet are good.

Pure functions, so the rules are tested without a database or a file; the console reads
the sheet (CSV or XLSX) into rows of text and shows what these functions say of each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field

# The sheet's header, as people type it; "乡镇" only matters in an admin's sheet.
NAME, BRANCH, VILLAGE, TOWN = "姓名", "党支部", "村/社区", "乡镇"
HEADER_ALIASES = {
    NAME: NAME,
    "name": NAME,
    BRANCH: BRANCH,
    "支部": BRANCH,
    "branch": BRANCH,
    VILLAGE: VILLAGE,
    "村": VILLAGE,
    "社区": VILLAGE,
    "村社区": VILLAGE,
    "village": VILLAGE,
    TOWN: TOWN,
    "town": TOWN,
}
MAX_NAME, MAX_BRANCH, MAX_VILLAGE = 50, 100, 100


@dataclass
class SheetRow:
    """One data row: its line in the sheet (the header is line 1), what it says, and the
    reasons it cannot be imported (empty: a good row)."""

    line: int
    name: str
    branch: str
    village: str
    town: str | None  # a town code, once known
    town_text: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def good(self) -> bool:
        return not self.problems


def header_columns(header: Sequence[str]) -> dict[str, int]:
    """Where each known column is: {"姓名": 0, ...}; unknown columns are ignored."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = HEADER_ALIASES.get(cell.strip().replace(" ", "").lower())
        if key is not None and key not in columns:
            columns[key] = index
    return columns


def check_rows(
    rows: Sequence[Sequence[str]],
    columns: Mapping[str, int],
    *,
    town_of: Mapping[str, str],
    fixed_town: str | None,
    existing: Set[tuple[str, str, str]] = frozenset(),
) -> list[SheetRow]:
    """Each data row with its problems, as codes (the console words them):

    - `name_missing`, `name_too_long`, `branch_too_long`, `village_too_long`;
    - `town_missing`, `unknown_town` (an admin's sheet: `town_of` maps a town's name or
      code to its code), `other_town` (a supervisor's sheet naming another town than theirs,
      `fixed_town`);
    - `duplicate` (same town, name and branch as an earlier row of the sheet) and
      `exists` (already on the roster: `existing` holds (town, name, branch)).

    Blank rows are left out; every other row is listed, good or not.
    """

    def cell(row: Sequence[str], key: str) -> str:
        index = columns.get(key)
        return str(row[index]).strip() if index is not None and index < len(row) else ""

    seen: set[tuple[str, str, str]] = set()
    out: list[SheetRow] = []
    for number, row in enumerate(rows, start=2):
        if not any(str(value).strip() for value in row):
            continue
        item = SheetRow(number, cell(row, NAME), cell(row, BRANCH), cell(row, VILLAGE), None)
        item.town_text = cell(row, TOWN)
        if not item.name:
            item.problems.append("name_missing")
        elif len(item.name) > MAX_NAME:
            item.problems.append("name_too_long")
        if len(item.branch) > MAX_BRANCH:
            item.problems.append("branch_too_long")
        if len(item.village) > MAX_VILLAGE:
            item.problems.append("village_too_long")
        named = town_of.get(item.town_text) if item.town_text else None
        if item.town_text and named is None:
            item.problems.append("unknown_town")
        elif fixed_town is not None:
            if named is not None and named != fixed_town:
                item.problems.append("other_town")
            item.town = fixed_town
        elif named is None:
            item.problems.append("town_missing")
        else:
            item.town = named
        if item.town is not None and item.name:
            key = (item.town, item.name, item.branch)
            if key in seen:
                item.problems.append("duplicate")
            elif key in existing:
                item.problems.append("exists")
            seen.add(key)
        out.append(item)
    return out
