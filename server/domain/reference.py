"""Rules for reference data an admin edits: town bits and the order of a route's sites.

Pure functions, so the rules are tested without a database and the console only applies them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

# Town bits live in a signed 64-bit mask (server.domain.visibility.ALL_TOWNS): 63 towns at most.
MAX_TOWN_BIT = 62


def lowest_free_bit(used: Iterable[int]) -> int | None:
    """The bit a new town gets: the lowest one no town holds, or None when all 63 are taken.

    Reusing the lowest gap keeps masks small; a bit is never shared, since a record's mask
    would then show it to the wrong town.
    """
    taken = set(used)
    return next((bit for bit in range(MAX_TOWN_BIT + 1) if bit not in taken), None)


def route_order(positions: Mapping[str, int | None], current: Sequence[str]) -> list[str]:
    """The route's site ids ordered by the positions an admin typed; no position means
    the site leaves the route.

    Equal positions keep the route's former order (sites not yet on it come after), so an
    admin who types the same number twice gets a predictable result instead of an error.
    """
    former = {site_id: index for index, site_id in enumerate(current)}
    chosen = [(pos, site_id) for site_id, pos in positions.items() if pos is not None]
    chosen.sort(key=lambda item: (item[0], former.get(item[1], len(former)), item[1]))
    return [site_id for _, site_id in chosen]
