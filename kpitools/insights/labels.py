"""Display names of data values: a channel, stage, tier or churn reason as the client reads it.

Data hold ids (``cold_outbound``, ``lead``) or the client's own words (``價格太高``). A report
shows each in its language, looked up in this order:

1. ``labels:`` in client.yml — ``labels: {channel: {cold_outbound: {zh-TW: 陌生開發, en: Cold
   outbound}}}`` (a plain string is used for both languages);
2. kpitools' defaults (``labels.yaml`` beside this module; funnel stages from kpitools.i18n);
3. a readable fallback: an id such as ``cold_outbound`` becomes ``Cold outbound``; words in the
   other language are shown as written.

Every fallback is written down in :attr:`Labels.notes` for the analyst (CLI output and run log),
never in the report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from kpitools._packageyaml import package_yaml
from kpitools.i18n import check_lang, has, t

__all__ = ["Labels", "readable"]

KINDS = ("channel", "stage", "tier", "reason", "product", "owner")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_ID = re.compile(r"^[a-z0-9]+([_\-][a-z0-9]+)*$")


@cache
def _defaults() -> dict[str, dict[str, dict[str, str]]]:
    raw = package_yaml((Path(__file__).parent / "labels.yaml").read_text("utf-8")) or {}
    return {kind: {_key(k): v for k, v in entries.items()} for kind, entries in raw.items()}


def _key(value: object) -> str:
    return re.sub(r"[\s_\-]+", "_", str(value).strip().lower())


def readable(value: object) -> str:
    """An id written for people: ``'cold_outbound'`` -> ``'Cold outbound'``.

    >>> readable("cold_outbound"), readable("Organic Search")
    ('Cold outbound', 'Organic Search')
    """
    text = str(value).strip()
    if _ID.match(text):
        text = re.sub(r"[_\-]+", " ", text)
        return text[:1].upper() + text[1:]
    return text


def _pick(entry: object, lang: str) -> str | None:
    if isinstance(entry, Mapping):
        value = entry.get(lang)
        return str(value) if value else None
    return str(entry) if entry not in (None, "") else None


class Labels:
    """Display names for one client and language; collects analyst notes about fallbacks."""

    def __init__(self, client: Any, lang: str) -> None:
        self.lang = check_lang(lang)
        config = getattr(client, "config", None) or {}
        own = config.get("labels") if isinstance(config, Mapping) else None
        self._own = {
            kind: {_key(k): v for k, v in (entries or {}).items()}
            for kind, entries in (own or {}).items()
            if isinstance(entries, Mapping)
        }
        self.notes: list[str] = []

    def __call__(self, kind: str, value: object) -> str:
        """The display name of ``value`` (a ``kind`` such as ``"channel"``) in this language."""
        if value is None or (isinstance(value, float) and value != value):
            return t("chart.not_stated", self.lang)
        key = _key(value)
        for source in (self._own, _defaults()):
            found = _pick(source.get(kind, {}).get(key), self.lang)
            if found:
                return found
        if kind == "stage" and has(f"stage.{key}"):
            return t(f"stage.{key}", self.lang)
        text = str(value).strip()
        shown = readable(text)
        other_language = (self.lang == "en") == bool(_CJK.search(text))
        if shown != text or other_language:
            note = (
                f"no {self.lang} label for {kind} '{text}'; the report shows '{shown}'. "
                f"Add it to client.yml: labels: {{{kind}: {{'{text}': "
                f"{{zh-TW: ..., en: ...}}}}}}"
            )
            if note not in self.notes:
                self.notes.append(note)
        return shown

    def many(self, kind: str, values: Iterable[object]) -> list[str]:
        return [self(kind, v) for v in values]

    def owner(self, value: object) -> str:
        """A goal owner; ``'業務部 / Sales'`` keeps the side written in this language."""
        text = str(value).strip() if value is not None else ""
        parts = [p.strip() for p in text.split(" / ")]
        if len(parts) == 2 and bool(_CJK.search(parts[0])) != bool(_CJK.search(parts[1])):
            chinese, english = parts if _CJK.search(parts[0]) else parts[::-1]
            return chinese if self.lang == "zh-TW" else english
        return self("owner", text) if text else text
