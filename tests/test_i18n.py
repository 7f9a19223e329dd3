"""kpitools.i18n: every text exists in both languages; numbers read as clients expect."""

from __future__ import annotations

import doctest
import math
import string

import pytest

import kpitools.i18n as i18n
from kpitools._errors import KpitoolsError
from kpitools.i18n import (
    LANGS,
    NA_TEXT,
    check_lang,
    direction_label,
    fmt_delta,
    fmt_money,
    fmt_number,
    fmt_pct,
    fmt_value,
    has,
    keys,
    localize,
    month_name,
    period_label,
    quarter_name,
    status_label,
    t,
)
from kpitools.periods import parse_period


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# --------------------------------------------------------------------------- the text table


def test_every_key_has_both_languages_non_empty_with_the_same_placeholders():
    table = i18n._table()
    assert len(table) > 100  # the groups status, period, month, header, unit, stage, chart, ...
    for key, texts in table.items():
        assert set(texts) == set(LANGS), key
        assert all(texts[lang].strip() for lang in LANGS), key
        assert _placeholders(texts["zh-TW"]) == _placeholders(texts["en"]), key


def test_groups_the_presentation_layer_relies_on_are_present():
    for month in range(1, 13):
        assert has(f"month.{month}")
    for status in ("on_track", "at_risk", "off_track", "achieved", "near_miss", "missed",
                   "no_data"):
        assert has(f"status.{status}")
    for unit in i18n.UNITS:
        assert has(f"unit.{unit}")
    assert keys() == sorted(keys())


def test_t_looks_up_and_fills_placeholders():
    assert t("status.on_track", "zh-TW") == "進度正常"
    assert t("status.at_risk", "zh-TW") == "有風險"
    assert t("status.off_track", "zh-TW") == "落後"
    assert t("status.off_track", "en") == "Off track"
    assert t("chart.target_value", "zh-TW", value="150萬元") == "目標 150萬元"
    assert t("period.quarter_label", "en", year=2024, quarter=3) == "Q3 2024"


def test_t_unknown_key_suggests_the_closest():
    with pytest.raises(KpitoolsError, match=r"no text with key 'status.on_trak'.*\n"
                                            r"Hint: did you mean 'status.on_track'\?"):
        t("status.on_trak", "en")


def test_t_missing_placeholder_says_which():
    with pytest.raises(KpitoolsError, match=r"(?s)needs a value for 'value'.*Hint: call t\("):
        t("chart.target_value", "en")


def test_check_lang_accepts_the_two_languages_and_teaches_otherwise():
    assert [check_lang(lang) for lang in LANGS] == ["zh-TW", "en"]
    with pytest.raises(KpitoolsError, match=r"unknown language 'zh_TW'.*\nHint: use 'zh-TW'\."):
        check_lang("zh_TW")
    with pytest.raises(KpitoolsError, match=r"(?s)unknown language 'fr'.*Hint: use 'zh-TW' "
                                            r"\(Traditional Chinese\) or 'en'"):
        t("status.on_track", "fr")


def test_localize_picks_the_language_and_falls_back_to_the_other():
    name = {"zh-TW": "雲帳科技股份有限公司", "en": "CloudLedger Technology Co., Ltd."}
    assert localize(name, "zh-TW") == "雲帳科技股份有限公司"
    assert localize(name, "en") == "CloudLedger Technology Co., Ltd."
    assert localize({"zh-TW": "只有中文"}, "en") == "只有中文"
    assert localize("ACV", "en") == "ACV"


def test_labels_for_status_direction_month_quarter():
    assert status_label("at risk", "zh-TW") == "有風險"
    assert status_label("Off-Track", "en") == "Off track"
    with pytest.raises(KpitoolsError, match=r"(?s)unknown status 'late'; known: on_track, "
                                            r"at_risk.*Hint: statuses are"):
        status_label("late", "en")
    assert direction_label("lower", "zh-TW") == "越低越好"
    with pytest.raises(KpitoolsError, match=r"direction must be 'higher' or 'lower', got 'up'"):
        direction_label("up", "en")
    assert (month_name(1, "zh-TW"), month_name(12, "en")) == ("1月", "Dec")
    assert (quarter_name(4, "zh-TW"), quarter_name(2, "en")) == ("第四季", "Q2")
    with pytest.raises(KpitoolsError, match=r"month must be 1–12, got 13"):
        month_name(13, "en")
    with pytest.raises(KpitoolsError, match=r"quarter must be 1–4, got 0"):
        quarter_name(0, "en")


@pytest.mark.parametrize(("period", "lang", "expected"), [
    ("2024Q3", "zh-TW", "2024年第3季"),
    ("2024Q3", "en", "Q3 2024"),
    ("2024-07", "zh-TW", "2024年7月"),
    ("2024-07", "en", "Jul 2024"),
    ("2024", "zh-TW", "2024年"),
    ("2024", "en", "2024"),
    # April–March fiscal year named after the year it begins in (kpitools.periods).
    (parse_period("2024Q1", fiscal_year_start_month=4), "zh-TW", "2024年度第1季"),
    (parse_period("2024Q1", fiscal_year_start_month=4), "en", "FY2024 Q1"),
    (parse_period("2024", fiscal_year_start_month=4), "en", "FY2024"),
])
def test_period_label(period, lang, expected):
    assert period_label(period, lang) == expected


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"x": 1234567, "lang": "zh-TW"}, "1,234,567元"),
    ({"x": 1234567, "lang": "en"}, "NT$1,234,567"),
    # 1,234,567 / 10,000 = 123.4567 -> one decimal 123.5 萬
    ({"x": 1234567, "lang": "zh-TW", "compact": True}, "123.5萬元"),
    # 1,234,567 / 1,000,000 = 1.234567 -> 1.2M
    ({"x": 1234567, "lang": "en", "compact": True}, "NT$1.2M"),
    # 250,000,000 / 10^8 = 2.5 億
    ({"x": 2.5e8, "lang": "zh-TW", "compact": True}, "2.5億元"),
    # 1,500,000 / 10^4 = 150 萬: trailing ".0" dropped
    ({"x": 1.5e6, "lang": "zh-TW", "compact": True}, "150萬元"),
    ({"x": -2500, "lang": "en"}, "-NT$2,500"),
    ({"x": -2500, "lang": "zh-TW"}, "-2,500元"),
    ({"x": 35000, "currency": "USD", "lang": "zh-TW", "compact": True}, "3.5萬美元"),
    ({"x": 35000, "currency": "usd", "lang": "en"}, "US$35,000"),
    ({"x": 1234.5, "lang": "en", "digits": 2}, "NT$1,234.50"),
    ({"x": 999, "currency": "MYR", "lang": "en"}, "MYR 999"),
    ({"x": 999, "currency": "MYR", "lang": "zh-TW"}, "999 MYR"),
    ({"x": math.nan, "lang": "en"}, NA_TEXT),
    ({"x": None, "lang": "zh-TW"}, NA_TEXT),
])
def test_fmt_money(kwargs, expected):
    assert fmt_money(**kwargs) == expected


def test_fmt_money_rejects_text_with_a_hint():
    with pytest.raises(KpitoolsError, match=r"(?s)the amount must be a number, got '1,234'.*Hint:"):
        fmt_money("1,234")


def test_fmt_pct_and_number():
    assert fmt_pct(0.1234, "en") == "12.3%"
    assert fmt_pct(0.1234, "zh-TW", 2) == "12.34%"
    assert fmt_pct(0.5, "en", 0) == "50%"
    assert fmt_pct(-0.034, "en", signed=True) == "-3.4%"
    assert fmt_pct(0.034, "en", signed=True) == "+3.4%"
    assert fmt_pct(math.nan, "en") == NA_TEXT
    assert fmt_number(1234.5, "en", 1) == "1,234.5"
    assert fmt_number(12_345, "en", compact=True) == "12.3K"    # 12,345 / 1,000
    assert fmt_number(56_000, "zh-TW", compact=True) == "5.6萬"  # 56,000 / 10,000
    assert fmt_number(9_999, "zh-TW", compact=True) == "9,999"  # below 萬: as is
    with pytest.raises(KpitoolsError, match=r"the rate must be a number, got True"):
        fmt_pct(True)


def test_fmt_value_by_catalog_unit():
    assert fmt_value(0.256, "rate", "en") == "25.6%"
    assert fmt_value(3.24, "ratio", "zh-TW") == "3.2倍"
    assert fmt_value(3.24, "ratio", "en") == "3.2×"
    assert fmt_value(14, "months", "en") == "14.0 months"
    assert fmt_value(14, "months", "zh-TW", digits=0) == "14 個月"
    assert fmt_value(42, "seconds", "zh-TW") == "42 秒"
    assert fmt_value(1500, "count", "en") == "1,500"
    assert fmt_value(1.5e6, "currency", "en", compact=True) == "NT$1.5M"
    # NRR of 1.083 is a percentage above 100%.
    assert fmt_value(1.083, "percent", "en") == "108.3%"
    with pytest.raises(KpitoolsError, match=r"(?s)unknown unit 'permille'.*Hint: use one of"):
        fmt_value(0.1, "permille")
    with pytest.raises(KpitoolsError, match=r"(?s)unknown unit 'curency'.*did you mean 'currency'"):
        fmt_value(0.1, "curency")


def test_fmt_delta():
    # 0.025 as a difference of two rates = 2.5 percentage points
    assert fmt_delta(0.025, "zh-TW", unit="rate") == "+2.5 個百分點"
    assert fmt_delta(-0.031, "en", unit="rate") == "-3.1 pp"
    assert fmt_delta(0.12, "zh-TW", relative=True) == "+12.0%"
    assert fmt_delta(-1500, "en", unit="currency") == "-NT$1,500"
    assert fmt_delta(1500, "zh-TW", unit="currency") == "+1,500元"
    assert fmt_delta(0, "zh-TW", unit="currency") == "0元"
    assert fmt_delta(1.5, "zh-TW", unit="months") == "+1.5 個月"
    assert fmt_delta(-3, "en") == "-3"
    assert fmt_delta(None, "en") == NA_TEXT


def test_module_examples_run():
    result = doctest.testmod(i18n, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 10
    assert result.failed == 0
