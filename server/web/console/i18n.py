"""The console's words in zh-CN and en, one JSON catalogue per area of the console.

Each file in translations/ maps a key to ["中文", "English"]; a key may be defined once.
The words for codes (statuses, severities, activities, ...) come from server.vocabulary,
shared with the field app, and may not be defined again in those files.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import g, request

from server import vocabulary
from server.i18n import LANGUAGES, pick_language

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
LANG_COOKIE = "fengling_lang"


@cache
def catalogue() -> dict[str, tuple[str, str]]:
    """:raises ValueError: a key defined in two files, or an entry that is not a pair."""
    merged: dict[str, tuple[str, str]] = dict(vocabulary.console_entries())
    for path in sorted(TRANSLATIONS_DIR.glob("*.json")):
        for key, pair in json.loads(path.read_text(encoding="utf-8")).items():
            if key in merged:
                raise ValueError(f"{path.name}: {key!r} is defined twice (or in server.vocabulary)")
            if not (isinstance(pair, list) and len(pair) == 2):
                raise ValueError(f"{path.name}: {key!r} needs [zh-CN, en]")
            merged[key] = (pair[0], pair[1])
    return merged


def current_language() -> str:
    """The language chosen in the console (a cookie), else the browser's, else Chinese."""
    if "lang" not in g:
        chosen = request.cookies.get(LANG_COOKIE)
        g.lang = (
            chosen if chosen in LANGUAGES else pick_language(request.headers.get("Accept-Language"))
        )
    return g.lang


def t(key: str, **values: Any) -> str:
    """The text for `key` in the current language; an unknown key shows as itself."""
    pair = catalogue().get(key)
    if pair is None:
        return key
    text = pair[1] if current_language() == "en" else pair[0]
    return text.format(**values) if values else text


def t_or(key: str, fallback: str) -> str:
    """Words that may be missing from the catalogue (a code added later) fall back to data."""
    return t(key) if key in catalogue() else fallback
