"""The phone and the console say the same words for the same codes (server.vocabulary)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from server import vocabulary
from server.contract import pwa_contract
from server.domain import workflow
from server.web.console.i18n import catalogue

ROOT = Path(__file__).resolve().parent.parent
PWA_CATALOGUES = {lang: ROOT / "webapp" / "i18n" / f"{lang}.json" for lang in ("zh-CN", "en")}
CONSOLE_TRANSLATIONS = ROOT / "server" / "web" / "console" / "translations"


def console_words(key: str, lang: str) -> str:
    zh, en = catalogue()[key]
    return zh if lang == "zh-CN" else en


def phone_words(key: str, lang: str) -> str:
    """What the field app's t() shows for a key: the contract's vocabulary first (i18n.js),
    then its own catalogue."""
    words = pwa_contract()["vocabulary"]
    if key in words[lang]:
        return str(words[lang][key])
    own = json.loads(PWA_CATALOGUES[lang].read_text(encoding="utf-8"))
    return str(own.get(key, key))


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_code_reads_the_same_on_the_phone_and_in_the_console(lang):
    keys = vocabulary.console_entries()
    assert keys, "the vocabulary is empty"
    differing = {
        key: (phone_words(key, lang), console_words(key, lang))
        for key in keys
        if phone_words(key, lang) != console_words(key, lang)
    }
    assert differing == {}


def test_the_severity_words_are_the_domain_words_everywhere():
    assert [phone_words(f"severity.{s}", "zh-CN") for s in ("low", "medium", "high")] == [
        "一般",
        "较重",
        "严重",
    ]
    assert console_words("case.severity", "zh-CN") == phone_words("case.severity", "zh-CN")
    assert phone_words("case.severity", "zh-CN") == "严重程度"


def test_every_status_and_severity_the_server_knows_has_words():
    words = vocabulary.WORDS
    assert set(words["status"]) == set(workflow.STATUSES)
    assert set(words["severity"]) == set(workflow.DUE_DAYS)
    for group, codes in vocabulary.CODES.items():
        assert set(words[group]) == set(codes)


@pytest.mark.parametrize("path", [*PWA_CATALOGUES.values(), *CONSOLE_TRANSLATIONS.glob("*.json")])
def test_no_catalogue_says_its_own_words_for_a_code(path):
    """A word for a code written again in a client's catalogue could drift: only the
    vocabulary may define them (the PWA's would be shadowed, the console's refused)."""
    keys = set(json.loads(path.read_text(encoding="utf-8")))
    groups = "|".join(vocabulary.WORDS)
    own = {
        k
        for k in keys
        if re.fullmatch(rf"({groups})\.[a-z_]+", k) and k in vocabulary.console_entries()
    }
    assert own == set()
