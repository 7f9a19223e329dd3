"""Find the catalog KPI a person means by a word: 「客戶流失率」, 「客单价」, "win rate", "CAC".

Terms come from each KPI's names in ``kpis_*.yaml`` and from ``aliases.yaml`` (the source
article's words and common business wording, zh-TW and English). Matching folds case, full-width
characters, spaces and Traditional versus Simplified Chinese characters. One word can mean
different KPIs in different businesses: 「新客戶數」 is ``new_customers`` (first contract)
for a SaaS client and ``new_customers_orders`` (first order) for a shop, so
:func:`resolve_kpi` keeps the first candidate that suits the client's business model and whose
tables the client has.

Examples
--------
>>> resolve_kpi("每月新增客戶數", business_model="saas").kpi
'new_customers'
>>> resolve_kpi("monthly new customers", business_model="ecommerce").kpi
'new_customers_orders'
>>> resolve_kpi("客户流失率").kpi
'logo_churn_rate'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kpitools._errors import KpitoolsError
from kpitools._packageyaml import package_yaml

__all__ = ["KpiMatch", "find_kpi_terms", "fold", "kpi_terms", "resolve_kpi"]

_HERE = Path(__file__).parent

# Traditional → Simplified for the characters that occur in business wording. Both the text and
# the terms are folded to the Simplified form, so a term written once in Traditional characters
# also matches text written in Simplified ones (and variant forms such as 週/周 match each other).
_TRAD_SIMP = (
    "購购 訪访 銀银 寶宝 蝦虾 鄉乡 廳厅 館馆 錄录 蘋苹 藝艺 課课 練练 腦脑 電电 話话 "
    "戶户 數数 營营 價价 單单 額额 轉转 換换 獲获 約约 銷销 費费 廣广 點点 擊击 業业 "
    "務务 潛潜 實实 應应 體体 滿满 續续 據据 時时 間间 長长 門门 場场 開开 發发 會会 "
    "員员 閱阅 讀读 覽览 圖图 層层 級级 總总 淨净 潤润 經经 絡络 線线 網网 頁页 關关 "
    "鍵键 標标 達达 們们 團团 隊队 與与 為为 對对 個个 億亿 萬万 後后 來来 內内 裡里 "
    "裏里 區区 國国 東东 產产 項项 設设 計计 劃划 質质 詢询 問问 題题 覆复 復复 處处 "
    "進进 顧顾 贏赢 輸输 機机 報报 帳账 賬账 預预 測测 絲丝 讚赞 聯联 傳传 尋寻 週周 "
    "臺台 訂订 獎奖 勵励 幣币 兩两 擴扩 從从 於于 錢钱 買买 賣卖 貨货 視视 說说 這这 "
    "麼么 還还 過过 適适 齊齐 見见 規规 則则 責责 負负 階阶 職职 將将 準准 覺觉 碼码 "
    "號号 類类 佔占 率率 離离 簽签 談谈 觸触 遞递 導导 優优 惠惠 戰战 略略 鬆松 紀纪 "
    "錄录 張张 筆笔 漲涨 動动 減减 縮缩 壓压 撥拨 調调 歲岁 鐘钟 頻频 贊赞 "
)
_PAIRS = _TRAD_SIMP.split()
_FOLD = str.maketrans("".join(p[0] for p in _PAIRS), "".join(p[1] for p in _PAIRS))
_CJK = re.compile(r"[\u3400-\u9fff]")
_SEP = re.compile(r"[\s\-_/·・]+")


def fold(text: str) -> str:
    """Text in the form terms are compared in: NFKC, lower case, Simplified characters.

    >>> fold("客戶流失率") == fold("客户流失率")
    True
    """
    return unicodedata.normalize("NFKC", str(text)).lower().translate(_FOLD)


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _latin(text: str) -> str:
    return _SEP.sub(" ", text).strip()


@dataclass(frozen=True)
class KpiMatch:
    """Which KPI a text names: ``kpi`` (None if none), the words that named it (``term``, as
    written in the text), the other candidates the words could mean, and why the first was
    chosen (``reason``: ``"only"``, ``"fits"``, ``"fits_model"``, ``"has_tables"`` or
    ``"first"``)."""

    kpi: str | None
    term: str | None = None
    candidates: tuple[str, ...] = ()
    reason: str = ""
    start: int = -1
    end: int = -1


@cache
def kpi_terms() -> dict[str, tuple[str, ...]]:
    """Folded term → KPI ids it may mean, in order of preference."""
    from kpitools.catalog import _load

    kpis = _load()
    out: dict[str, list[str]] = {}

    def add(term: str, ids: Iterable[str]) -> None:
        key = fold(term).strip()
        if len(_squeeze(key)) < 2:
            return
        bucket = out.setdefault(key, [])
        bucket.extend(i for i in ids if i not in bucket)

    raw = package_yaml((_HERE / "aliases.yaml").read_text(encoding="utf-8")) or []
    for entry in raw:
        ids = list(entry["kpis"])
        unknown = [i for i in ids if i not in kpis]
        if unknown:
            raise KpitoolsError(
                f"aliases.yaml names KPI(s) {unknown} that the catalog does not "
                "have.\nHint: this is a bug in kpitools; please report it."
            )
        for terms in (entry.get("terms") or {}).values():
            for term in terms:
                add(str(term), ids)
    for kpi in kpis.values():
        add(kpi.id.replace("_", " "), [kpi.id])
        for name in kpi.name.values():
            add(name, [kpi.id])
            bare = re.sub(r"[(（].*?[)）]", "", name)
            add(bare, [kpi.id])
            for inner in re.findall(r"[(（](.*?)[)）]", name):
                if _is_acronym(inner):  # (ACV), (CLTV), (客單價); not (12 months) or (amount)
                    add(inner, [kpi.id])
    return {k: tuple(v) for k, v in out.items()}


#: Words in parentheses of KPI names that describe a variant rather than name the KPI.
_NOT_NAMES = {"折扣後", "金額", "每日加總", "首購"}


def _is_acronym(inner: str) -> bool:
    """An abbreviation or short alternative name in a KPI name's parentheses."""
    if re.search(r"\d", inner) or inner in _NOT_NAMES:
        return False
    return bool(
        re.fullmatch(r"[A-Z][A-Z:/]+(?: %)?", inner) or re.fullmatch(r"[\u3400-\u9fff]{2,5}", inner)
    )


@cache
def _patterns() -> list[tuple[re.Pattern[str], str, int]]:
    """One regex per term, longest first: CJK terms ignore spaces, Latin ones match whole words."""
    out = []
    for term in kpi_terms():
        if _CJK.search(term):
            body = r"\s*".join(re.escape(ch) for ch in _squeeze(term))
            pattern = body
        else:
            words = [re.escape(w) for w in _latin(term).split(" ")]
            pattern = r"(?<![a-z0-9])" + r"[\s\-_/]*".join(words) + r"(?:e?s)?(?![a-z0-9])"
        out.append((re.compile(pattern), term, len(_squeeze(term))))
    out.sort(key=lambda x: -x[2])
    return out


def find_kpi_terms(text: str) -> list[tuple[int, int, str]]:
    """Every catalog term in ``text`` as (start, end, folded term), longest first, without
    overlaps. Positions index ``text`` itself (folding keeps the length of CJK and ASCII text)."""
    folded = fold(text)
    if len(folded) != len(text):  # NFKC changed the length (rare ligatures): match on folded
        text = folded
    taken: list[tuple[int, int, str]] = []
    for pattern, term, _ in _patterns():
        for m in pattern.finditer(folded):
            if any(m.start() < e and s < m.end() for s, e, _ in taken):
                continue
            taken.append((m.start(), m.end(), term))
    return sorted(taken, key=lambda x: -(x[1] - x[0]))


def _choose(
    ids: tuple[str, ...], business_model: str | None, tables: Iterable[str] | None
) -> tuple[str, str]:
    from kpitools.catalog import get_kpi

    if len(ids) == 1:
        return ids[0], "only"
    have = None if tables is None else set(tables)

    def fits_model(i: str) -> bool:
        return business_model is not None and business_model in get_kpi(i).business_models

    def has_tables(i: str) -> bool:
        return have is not None and all(t in have for t in get_kpi(i).tables)

    for test, reason in (
        (lambda i: fits_model(i) and has_tables(i), "fits"),
        (fits_model, "fits_model"),
        (has_tables, "has_tables"),
    ):
        for i in ids:
            if test(i):
                return i, reason
    return ids[0], "first"


def resolve_kpi(
    text: str, *, business_model: str | None = None, tables: Iterable[str] | None = None
) -> KpiMatch:
    """The catalog KPI that ``text`` names (the longest term found wins).

    Parameters
    ----------
    text : str
        A KPI word or a whole goal sentence, zh-TW, Simplified Chinese or English.
    business_model : str, optional
        The client's business model (``saas``, ``ecommerce``, ``services``, ``content``).
    tables : iterable of str, optional
        The canonical tables the client has.

    Returns
    -------
    KpiMatch
        ``kpi`` is None when no term is found.
    """
    found = find_kpi_terms(text)
    if not found:
        return KpiMatch(None)
    start, end, term = found[0]
    ids = kpi_terms()[term]
    tables = list(tables) if tables is not None else None
    kpi, reason = _choose(ids, business_model, tables)
    return KpiMatch(kpi, text[start:end], ids, reason, start, end)
