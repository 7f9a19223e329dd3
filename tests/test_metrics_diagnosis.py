"""ACV mix / rate decomposition and the sentence explaining it."""

from __future__ import annotations

import pandas as pd
import pytest
from test_metrics_revenue import contracts

from kpitools._errors import KpitoolsError
from kpitools.metrics import acv_mix_rate, explain_acv_change


def _book() -> pd.DataFrame:
    """Q1: 3 enterprise at 10,000 and 7 basic at 1,000.
    Q2: 1 enterprise at 12,000 and 9 basic at 1,000."""
    q1 = [(f"e{i}", "2024-01-05", "2025-01-04", 10000) for i in range(3)]
    q1 += [(f"b{i}", "2024-02-05", "2025-02-04", 1000) for i in range(7)]
    q2 = [("E", "2024-04-05", "2025-04-04", 12000)]
    q2 += [(f"B{i}", "2024-05-05", "2025-05-04", 1000) for i in range(9)]
    return contracts(
        q1 + q2, tier=["Enterprise"] * 3 + ["Basic"] * 7 + ["Enterprise"] + ["Basic"] * 9
    )


def test_mix_rate_decomposition_by_hand():
    r = acv_mix_rate(_book(), "2024Q1", "2024Q2")
    # A0 = 0.3 × 10,000 + 0.7 × 1,000 = 3,700; A1 = 0.1 × 12,000 + 0.9 × 1,000 = 2,100.
    assert (r.acv_base, r.acv_compare, r.change) == pytest.approx((3700, 2100, -1600))
    assert r.change_rate == pytest.approx(-1600 / 3700)
    # Ā = 2,900. Mix: Enterprise (0.1 − 0.3)(11,000 − 2,900) = −1,620;
    #                 Basic (0.9 − 0.7)(1,000 − 2,900) = −380 → −2,000.
    # Rate: Enterprise (12,000 − 10,000) × 0.2 = 400; Basic 0 → 400. Sum −1,600.
    seg = r.segments.set_index("segment")
    assert seg.loc["Enterprise", "mix_effect"] == pytest.approx(-1620)
    assert seg.loc["Basic", "mix_effect"] == pytest.approx(-380)
    assert (r.mix_effect, r.rate_effect) == pytest.approx((-2000, 400))
    assert r.mix_effect + r.rate_effect == pytest.approx(r.change)
    assert r.effects().to_dict() == pytest.approx(
        {"base": 3700, "mix_effect": -2000, "rate_effect": 400, "compare": 2100}
    )
    assert (r.driver, r.driver_segment) == ("mix", "Enterprise")
    assert seg.loc["Enterprise", ["share_base", "share_compare"]].tolist() == pytest.approx(
        [0.3, 0.1]
    )


def test_swapping_periods_flips_signs():
    a = acv_mix_rate(_book(), "2024Q1", "2024Q2")
    b = acv_mix_rate(_book(), "2024Q2", "2024Q1")
    assert (b.mix_effect, b.rate_effect) == pytest.approx((-a.mix_effect, -a.rate_effect))


def test_rate_driven_change_and_new_segment():
    c = contracts(
        [
            ("a", "2024-01-05", "2025-01-04", 1000),
            ("b", "2024-01-06", "2025-01-05", 3000),
            ("c", "2024-04-05", "2025-04-04", 2000),
            ("d", "2024-04-06", "2025-04-05", 6000),
        ],
        tier=["Basic", "Pro", "Basic", "Pro"],
    )
    r = acv_mix_rate(c, "2024Q1", "2024Q2")
    # Shares equal (½, ½) → mix 0; each tier doubled: rate = (1,000 + 3,000) × ½ = 2,000.
    assert (r.mix_effect, r.rate_effect, r.driver) == pytest.approx((0, 2000, "rate"))
    assert r.driver_segment == "Pro"
    text = explain_acv_change(r, "en")
    assert "the average ACV of Pro contracts rose from 3,000 to 6,000" in text
    zh = explain_acv_change(r, "zh-TW")
    assert (
        zh.startswith("平均 ACV 上升 100%") and "Pro 方案合約的平均 ACV 從 3,000 升至 6,000" in zh
    )
    # A tier only in Q2 counts entirely as mix and the two effects still add up.
    e = pd.concat(
        [c, contracts([("z", "2024-05-01", "2025-04-30", 20000)], tier=["Ent"])], ignore_index=True
    )
    e["contract_id"] = [f"k{i}" for i in range(len(e))]
    r2 = acv_mix_rate(e, "2024Q1", "2024Q2")
    seg = r2.segments.set_index("segment")
    assert seg.loc["Ent", "rate_effect"] == 0
    assert seg.loc["Ent", "n_base"] == 0
    assert r2.mix_effect + r2.rate_effect == pytest.approx(r2.change)


def test_explain_sentence_in_both_languages():
    r = acv_mix_rate(_book(), "2024Q1", "2024Q2")
    assert explain_acv_change(r) == (
        "平均 ACV 下降 43%（2024Q1 → 2024Q2），主因是 Enterprise 方案占比從 30% 降至 10%。"
    )
    assert explain_acv_change(r, "en") == (
        "Average ACV fell 43% (2024Q1 → 2024Q2) mainly because the Enterprise share dropped "
        "from 30% to 10%."
    )
    with pytest.raises(KpitoolsError, match=r"lang='ja' is not one of"):
        explain_acv_change(r, "ja")


def test_flat_change_and_errors():
    c = contracts(
        [("a", "2024-01-05", "2025-01-04", 1000), ("b", "2024-04-05", "2025-04-04", 1000)],
        tier=["Basic", "Basic"],
    )
    r = acv_mix_rate(c, "2024Q1", "2024Q2")
    assert (r.driver, r.driver_segment) == ("none", None)
    assert explain_acv_change(r, "en") == "Average ACV was unchanged at 1,000 (2024Q1 → 2024Q2)."
    assert r.to_dict()["segments"][0]["segment"] == "Basic"
    with pytest.raises(KpitoolsError, match="no contract started in 2023Q1"):
        acv_mix_rate(c, "2023Q1", "2024Q2")
    with pytest.raises(KpitoolsError, match=r"lacks column\(s\) 'segment'"):
        acv_mix_rate(c, "2024Q1", "2024Q2", by="segment")
