"""The words for the codes people see: one source for the phone and the console.

A status, a severity, an activity, a party's role and a check-in's reason are stored as codes;
a person reads words. Both clients take them from here: the console merges `console_entries()`
into its catalogue (server.web.console.i18n), and the field app gets `pwa_vocabulary()` in its
generated contract (server.contract, webapp/js/contract.js), which its `t()` reads before its
own catalogue. So the phone and the console cannot say different words for the same code
(tests/test_vocabulary.py).

Categories are reference data with their own names (the `category` table, synced to phones),
so they are not repeated here.

Words chosen where the two clients differed (issue 14): severities are 一般 / 较重 / 严重 (the
field is 严重程度: the due date follows how serious a dispute is, not how urgent a visit is),
`escalated` is 提交联合执法 and `visit` is 参观, as DOMAIN.md names them.
"""

from __future__ import annotations

from server.domain import workflow

# group -> code -> (zh-CN, en). Each group's message key is "<group>.<code>" on both clients.
WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "status": {
        "registered": ("登记", "Registered"),
        "accepted": ("受理", "Accepted"),
        "mediating": ("调解中", "Mediating"),
        "resolved": ("已化解", "Resolved"),
        "escalated": ("提交联合执法", "Joint enforcement"),
        "closed": ("办结", "Closed"),
    },
    "severity": {
        "low": ("一般", "Low"),
        "medium": ("较重", "Medium"),
        "high": ("严重", "High"),
    },
    "activity": {
        "party_history_study": ("党史学习", "Party history study"),
        "theme_party_day": ("主题党日", "Theme party day"),
        "visit": ("参观", "Visit"),
        "other": ("其他", "Other"),
    },
    "party": {
        "applicant": ("申请人", "Applicant"),
        "respondent": ("被申请人", "Respondent"),
        "other": ("其他", "Other"),
    },
    # Why a check-in is not verified (protocol: "Additions in v1").
    "reason": {
        "no_fix": ("没有定位", "No position"),
        "stale_fix": (
            "定位不是打卡时取得的（相差超过两分钟）",
            "Position not taken at the check-in (over two minutes apart)",
        ),
        "poor_accuracy": ("定位精度不足", "Position not accurate enough"),
        "too_far": ("不在点位范围内", "Too far from the site"),
    },
}

# Field labels both clients show beside those words.
LABELS: dict[str, tuple[str, str]] = {
    "severity": ("严重程度", "Severity"),
}

# The codes each group must cover, where the server defines them elsewhere.
CODES: dict[str, tuple[str, ...]] = {
    "status": workflow.STATUSES,
    "severity": tuple(workflow.DUE_DAYS),
}


def console_entries() -> dict[str, tuple[str, str]]:
    """Catalogue entries for the console: "<group>.<code>" -> (zh-CN, en), and the labels."""
    entries = {
        f"{group}.{code}": pair for group, words in WORDS.items() for code, pair in words.items()
    }
    entries.update({f"label.{name}": pair for name, pair in LABELS.items()})
    return entries


def pwa_vocabulary() -> dict[str, dict[str, str]]:
    """For the field app's contract: language -> message key -> words."""
    entries = console_entries()
    return {
        "zh-CN": {key: pair[0] for key, pair in entries.items()},
        "en": {key: pair[1] for key, pair in entries.items()},
    }
