"""kpitools.plots chart functions: build in both languages, label in that language, draw the
numbers computed by hand, never warn (in particular never about missing glyphs)."""

from __future__ import annotations

import doctest
import io
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.text import Text

import kpitools.plots as plots
from kpitools._errors import KpitoolsError
from kpitools.plots import (
    STATUS_COLORS,
    bar_chart,
    cohort_heatmap,
    dual_axis,
    funnel_chart,
    mix_rate_chart,
    reasons_chart,
    scorecard_chart,
    share_bar,
    trend_chart,
    waterfall_chart,
)
from kpitools.plots._style import HIGHLIGHT, NEGATIVE, POSITIVE, PRIMARY

LANGS = ("zh-TW", "en")
STAGES = ["lead", "qualified", "demo", "proposal", "negotiation", "won"]


def render(fig: Figure) -> Figure:
    """Draw to PNG; fail on any warning (missing glyphs above all). Returns the figure."""
    assert isinstance(fig, Figure)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png")
    messages = [str(w.message) for w in caught]
    assert not messages, messages
    return fig


def texts(fig: Figure) -> list[str]:
    """Every piece of text drawn on the figure (titles, labels, tick labels, annotations)."""
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def ticklabels(ax, axis: str = "x") -> list[str]:
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [label.get_text() for label in labels]


def bar_colors(ax) -> list[str]:
    return [to_hex(p.get_facecolor()) for p in ax.patches]


def funnel_frame(counts: list[int], stages: list[str] = STAGES) -> pd.DataFrame:
    """Same shape as kpitools.metrics.sales.funnel(): index 'stage', column 'deals'."""
    deals = pd.Series(counts, dtype="int64")
    return pd.DataFrame({"deals": deals.to_numpy(),
                         "stage_conversion": (deals / deals.shift(1)).to_numpy()},
                        index=pd.Index(stages[: len(counts)], name="stage"))


@pytest.fixture(autouse=True)
def _no_pyplot_figures_left():
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before  # charts are plain Figures, nothing leaks into pyplot


# --------------------------------------------------------------------------- trend / bars


@pytest.mark.parametrize("lang", LANGS)
def test_trend_chart_labels_periods_target_and_last_value_in_lang(lang):
    revenue = pd.Series([1.2e6, 1.35e6, 1.5e6], index=["2024Q1", "2024Q2", "2024Q3"])
    fig = render(trend_chart(revenue, title="季營收", unit="currency", target=1.4e6, lang=lang))
    ax = fig.axes[0]
    drawn = texts(fig)
    if lang == "zh-TW":
        assert ticklabels(ax) == ["2024年第1季", "2024年第2季", "2024年第3季"]
        assert "目標 140萬元" in drawn      # 1,400,000 / 10^4 = 140 萬
        assert "150萬元" in drawn           # last value labelled
        assert ax.get_ylabel() == "金額（TWD）"
    else:
        assert ticklabels(ax) == ["Q1 2024", "Q2 2024", "Q3 2024"]
        assert "Target NT$1.4M" in drawn
        assert "NT$1.5M" in drawn
        assert ax.get_ylabel() == "Amount (TWD)"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1.2e6, 1.35e6, 1.5e6])


def test_trend_chart_draws_one_line_per_column_and_a_target_series():
    frame = pd.DataFrame({"官網": [100, 120, 130], "門市": [80, 85, 90]},
                         index=pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]))
    target = pd.Series([90, 110, 120], index=frame.index)
    fig = render(trend_chart(frame, title="新客戶數", target=target, lang="en"))
    ax = fig.axes[0]
    assert ticklabels(ax) == ["Jan 2024", "Feb 2024", "Mar 2024"]
    assert [line.get_label() for line in ax.lines] == ["官網", "門市", "Target"]
    np.testing.assert_allclose(ax.lines[2].get_ydata(), [90, 110, 120])
    assert fig.legends, "several series need a legend"


@pytest.mark.parametrize("lang", LANGS)
def test_bar_chart_highlights_and_labels_values(lang):
    acv = pd.Series({"基本": 36000, "專業": 96000, "企業": 240000})
    fig = render(bar_chart(acv, title="各方案平均 ACV", unit="currency", highlight="企業",
                           lang=lang))
    ax = fig.axes[0]
    assert bar_colors(ax) == [PRIMARY.lower(), PRIMARY.lower(), HIGHLIGHT.lower()]
    expected = ["3.6萬元", "9.6萬元", "24萬元"] if lang == "zh-TW" else [
        "NT$36K", "NT$96K", "NT$240K"]
    assert all(label in texts(fig) for label in expected)


def test_bar_chart_grouped_and_horizontal():
    frame = pd.DataFrame({"2023": [10, 20], "2024": [15, 18]}, index=["北區", "南區"])
    fig = render(bar_chart(frame, title="客戶數", lang="zh-TW"))
    assert len(fig.axes[0].patches) == 4
    rates = pd.Series({"王小明": 0.82, "李美華": 1.12})
    fig = render(bar_chart(rates, unit="rate", horizontal=True, lang="en"))
    assert ticklabels(fig.axes[0], "y") == ["王小明", "李美華"]
    assert {"82.0%", "112.0%"} <= set(texts(fig))


@pytest.mark.parametrize("lang", LANGS)
def test_dual_axis_bars_left_line_right(lang):
    data = pd.DataFrame({"revenue": [1.0e6, 1.2e6], "attainment": [0.8, 1.05]},
                        index=["2024-01", "2024-02"])
    fig = render(dual_axis(data, bar="revenue", line="attainment", line_target=1.0,
                           title="目標達成率與月營收趨勢", lang=lang))
    left, right = fig.axes
    assert len(left.patches) == 2
    np.testing.assert_allclose(right.lines[0].get_ydata(), [0.8, 1.05])
    assert {"80.0%", "105.0%"} <= set(texts(fig))
    assert (t := ("目標" if lang == "zh-TW" else "Target")) in texts(fig), t


def test_dual_axis_missing_column_is_explained():
    with pytest.raises(KpitoolsError, match=r"(?s)lacks column\(s\) \['margin'\].*Hint: pass a "
                                            r"DataFrame with columns 'revenue' and 'margin'"):
        dual_axis(pd.DataFrame({"revenue": [1.0]}), bar="revenue", line="margin")


# --------------------------------------------------------------------------- shares / reasons


@pytest.mark.parametrize("lang", LANGS)
def test_share_bar_sorts_groups_the_tail_and_labels_shares(lang):
    counts = pd.Series({"C": 1, "A": 5, "B": 2, "D": 1, "E": 1})  # total 10
    fig = render(share_bar(counts, top=3, lang=lang))
    ax = fig.axes[0]
    other = "其他" if lang == "zh-TW" else "Other"
    # top=3 keeps the 2 largest and adds the rest (1 + 1 + 1 = 3) as Other, drawn last.
    assert ticklabels(ax, "y") == ["A", "B", other]
    assert {"5 (50.0%)", "3 (30.0%)", "2 (20.0%)"} <= set(texts(fig))


def test_share_bar_refuses_negative_values():
    with pytest.raises(KpitoolsError, match=r"(?s)negative values for \['B'\].*waterfall_chart"):
        share_bar({"A": 3, "B": -1})


@pytest.mark.parametrize("lang", LANGS)
def test_reasons_chart_counts_reasons_and_names_blank_ones(lang):
    churn_events = pd.DataFrame({
        "customer_id": list("abcdef"),
        "reason": ["價格太高", "價格太高", "功能不足", " ", None, "價格太高"],
        "mrr_lost": [3000, 2000, 5000, 600, 400, 1000],
    })
    fig = render(reasons_chart(churn_events, lang=lang))
    not_stated = "未註明" if lang == "zh-TW" else "Not stated"
    assert ticklabels(fig.axes[0], "y") == ["價格太高", not_stated, "功能不足"]
    assert fig.axes[0].get_title(loc="left") == (
        "客戶流失原因" if lang == "zh-TW" else "Churn reasons")
    # 3 of 6 rows = 50 %, 2 blank = 33.3 %, 1 = 16.7 %
    assert {"3 (50.0%)", "2 (33.3%)", "1 (16.7%)"} <= set(texts(fig))
    # Weighted by lost MRR: 功能不足 5000 / 12000 = 41.7 %, 價格太高 6000 = 50 %
    fig = render(reasons_chart(churn_events, lang=lang, weight="mrr_lost"))
    assert ticklabels(fig.axes[0], "y")[:2] == ["價格太高", "功能不足"]
    assert any(s.endswith("(41.7%)") for s in texts(fig))


# --------------------------------------------------------------------------- cohort heatmap


@pytest.mark.parametrize("lang", LANGS)
def test_cohort_heatmap_blank_cells_and_labels(lang):
    matrix = pd.DataFrame([[1.0, 0.9, 0.82], [1.0, 0.88, np.nan], [1.0, np.nan, np.nan]],
                          index=["2024-01", "2024-02", "2024-03"], columns=[0, 1, 2])
    fig = render(cohort_heatmap(matrix, lang=lang))
    ax = fig.axes[0]
    cells = [t.get_text() for t in ax.texts]
    assert len(cells) == 6  # 9 cells, 3 not reached yet
    assert {"100.0%", "90.0%", "82.0%", "88.0%"} <= set(cells)
    if lang == "zh-TW":
        assert ticklabels(ax, "y") == ["2024年1月", "2024年2月", "2024年3月"]
        assert ax.get_xlabel() == "開始後第幾個月"
    else:
        assert ticklabels(ax, "y") == ["Jan 2024", "Feb 2024", "Mar 2024"]
        assert ax.get_xlabel() == "Months since start"


def test_cohort_heatmap_needs_a_frame():
    with pytest.raises(KpitoolsError, match=r"(?s)cohort matrix must be a non-empty DataFrame"):
        cohort_heatmap(pd.DataFrame())


# --------------------------------------------------------------------------- funnel


@pytest.mark.parametrize("lang", LANGS)
def test_funnel_chart_marks_the_stage_that_loses_most(lang):
    # 400 -> 180 (45 %) -> 120 (66.7 %) -> 60 (50 %) -> 40 (66.7 %) -> 22 (55 %):
    # the weakest step is lead -> qualified, so the lead stage is the bottleneck.
    fig = render(funnel_chart(funnel_frame([400, 180, 120, 60, 40, 22]), lang=lang))
    ax = fig.axes[0]
    colors = bar_colors(ax)
    assert colors[0] == HIGHLIGHT.lower()
    assert set(colors[1:]) == {PRIMARY.lower()}
    if lang == "zh-TW":
        assert ticklabels(ax, "y") == ["潛在客戶", "合格商機", "產品展示", "提案報價", "議價協商",
                                       "成交"]
        assert "轉換率 45.0%  ◀ 瓶頸" in texts(fig)
        assert "轉換率 66.7%" in texts(fig)
    else:
        assert ticklabels(ax, "y") == ["Lead", "Qualified", "Demo", "Proposal", "Negotiation",
                                       "Won"]
        assert "45.0% converted  ◀ Bottleneck" in texts(fig)


def test_funnel_chart_bottleneck_in_the_middle_and_custom_stages():
    # 100 -> 80 (80 %) -> 20 (25 %) -> 15 (75 %): the second stage loses most.
    stages = ["詢價", "報價", "簽約", "付款"]
    frame = pd.DataFrame({"stage": stages, "count": [100, 80, 20, 15]})  # no conversion column
    fig = render(funnel_chart(frame, lang="zh-TW"))
    ax = fig.axes[0]
    assert bar_colors(ax)[1] == HIGHLIGHT.lower()
    assert ticklabels(ax, "y") == stages  # custom stage names shown as written
    assert "轉換率 25.0%  ◀ 瓶頸" in texts(fig)
    fig = render(funnel_chart(frame, lang="zh-TW", highlight=None))
    assert HIGHLIGHT.lower() not in bar_colors(fig.axes[0])
    fig = render(funnel_chart(frame, lang="zh-TW", highlight="簽約"))
    assert bar_colors(fig.axes[0])[2] == HIGHLIGHT.lower()


def test_funnel_chart_explains_segmented_input_and_unknown_stage():
    segmented = pd.concat({"web": funnel_frame([10, 5]), "store": funnel_frame([8, 2])},
                          names=["channel"])
    with pytest.raises(KpitoolsError, match=r"(?s)several segments.*Hint: select a segment"):
        funnel_chart(segmented)
    with pytest.raises(KpitoolsError, match=r"(?s)highlight stage 'demo' is not in the funnel"):
        funnel_chart(funnel_frame([10, 5]), highlight="demo")


def test_funnel_chart_draws_the_sales_funnel_function_output():
    from kpitools.metrics.sales import funnel

    deals = pd.DataFrame({
        "deal_id": ["d1", "d2", "d3", "d4"],
        "created_date": pd.to_datetime(["2024-07-01", "2024-07-05", "2024-08-01", "2024-09-01"]),
        "stage": ["lead", "demo", "won", "qualified"],
        "outcome": ["lost", "lost", "won", "open"],
        "close_date": pd.to_datetime(["2024-07-10", "2024-08-01", "2024-09-01", None]),
    })
    stages = ["lead", "qualified", "demo", "won"]
    f = funnel(deals, stages, "2024Q3")
    # reached: lead 4, qualified 3 (d2, d3, d4), demo 2 (d2, d3), won 1 (d3)
    fig = render(funnel_chart(f, lang="en"))
    widths = [p.get_width() for p in fig.axes[0].patches]
    assert widths == [4, 3, 2, 1]


# --------------------------------------------------------------------------- scorecard


@pytest.mark.parametrize("lang", LANGS)
def test_scorecard_chart_colours_by_status_and_says_it_in_words(lang):
    scorecard = pd.DataFrame({
        "kpi": ["new_customers", "mrr", "churn_rate", "response_time"],
        "kpi_name": ["新客戶數", "MRR", "客戶流失率", "平均回應時間"],
        "attainment": [1.08, 0.93, 0.71, np.nan],
        "status": ["on_track", "at_risk", "off_track", "no_data"],
    })
    fig = render(scorecard_chart(scorecard, lang=lang))
    ax = fig.axes[0]
    assert ticklabels(ax, "y") == ["新客戶數", "MRR", "客戶流失率", "平均回應時間"]
    assert bar_colors(ax) == [STATUS_COLORS[s].lower()
                              for s in ("on_track", "at_risk", "off_track", "no_data")]
    drawn = texts(fig)
    if lang == "zh-TW":
        assert {"108.0%（進度正常）", "93.0%（有風險）", "71.0%（落後）", "無資料"} <= set(drawn)
        assert ax.get_xlabel() == "達成率（目標 = 100%）"
    else:
        assert {"108.0% (On track)", "93.0% (At risk)", "71.0% (Off track)", "n/a"} <= set(drawn)


def test_scorecard_chart_without_status_uses_the_goal_bands():
    # Bands of kpitools.goals.attainment: >= 100 % on track, >= 90 % at risk, else off track.
    frame = pd.DataFrame({"kpi": ["a", "b", "c"], "attainment": [1.0, 0.9, 0.899]})
    fig = render(scorecard_chart(frame, lang="en"))
    assert bar_colors(fig.axes[0]) == [STATUS_COLORS[s].lower()
                                       for s in ("on_track", "at_risk", "off_track")]
    bad = frame.assign(status=["on_track", "late", "at_risk"])
    with pytest.raises(KpitoolsError, match=r"(?s)unknown status value\(s\) \['late'\]"):
        scorecard_chart(bad)


# --------------------------------------------------------------------------- waterfalls


@pytest.mark.parametrize("lang", LANGS)
def test_waterfall_chart_from_mrr_movements(lang):
    # Two months in the shape of kpitools.metrics.revenue.mrr_movements (decreases positive).
    movements = pd.DataFrame({
        "month": pd.to_datetime(["2024-07-01", "2024-08-01"]),
        "new": [100.0, 50.0], "expansion": [20.0, 0.0], "contraction": [10.0, 0.0],
        "churn": [0.0, 30.0], "reactivation": [0.0, 0.0],
        "net": [110.0, 20.0], "mrr_start": [1000.0, 1110.0], "mrr_end": [1110.0, 1130.0],
    })
    fig = render(waterfall_chart(movements, lang=lang))
    ax = fig.axes[0]
    # start 1000; new +150; expansion +20; contraction -10; churn -30; end 1130.
    # reactivation is all zero and left out.
    heights = [p.get_height() for p in ax.patches]
    bottoms = [p.get_y() for p in ax.patches]
    assert heights == [1000, 150, 20, 10, 30, 1130]
    assert bottoms == [0, 1000, 1150, 1160, 1130, 0]
    colors = bar_colors(ax)
    assert colors[1:5] == [POSITIVE.lower(), POSITIVE.lower(), NEGATIVE.lower(), NEGATIVE.lower()]
    if lang == "zh-TW":
        assert ticklabels(ax) == ["期初 MRR", "新客戶", "擴充", "縮減", "流失", "期末 MRR"]
        assert {"+150元", "-30元", "1,130元"} <= set(texts(fig))
    else:
        assert ticklabels(ax) == ["Starting MRR", "New", "Expansion", "Contraction", "Churn",
                                  "Ending MRR"]
        assert {"+NT$150", "-NT$30", "NT$1,130"} <= set(texts(fig))


def test_waterfall_chart_checks_the_bridge_adds_up():
    with pytest.raises(KpitoolsError, match=r"(?s)does not add up: start 100.00 \+ changes "
                                            r"10.00 = 110.00, but the end total is 120.00.*"
                                            r"Hint: a movement is missing"):
        waterfall_chart({"start": 100, "new": 20, "churn": -10}, end=120)
    fig = render(waterfall_chart({"start": 100, "new": 20, "churn": -10}, end=110, lang="en"))
    assert ticklabels(fig.axes[0]) == ["Start", "New", "Churn", "End"]


@pytest.mark.parametrize("lang", LANGS)
def test_mix_rate_chart_bridges_base_to_compare(lang):
    effects = {"base": 120000, "mix_effect": 8000, "rate_effect": -3000, "compare": 125000}
    fig = render(mix_rate_chart(effects, base_label="2024Q2", compare_label="2024Q3",
                                lang=lang))
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.patches] == [120000, 8000, 3000, 125000]
    if lang == "zh-TW":
        assert ticklabels(ax) == ["基期 2024年第2季", "組合效果", "單價效果", "比較期 2024年第3季"]
        assert ax.get_title(loc="left") == "ACV 變動拆解：組合效果與單價效果"
        assert {"+8,000元", "-3,000元", "12.5萬元"} <= set(texts(fig))
    else:
        assert ticklabels(ax) == ["Base Q2 2024", "Mix effect", "Rate effect", "Compare Q3 2024"]
        assert {"+NT$8,000", "-NT$3,000", "NT$125K"} <= set(texts(fig))


def test_mix_rate_chart_errors_teach():
    with pytest.raises(KpitoolsError, match=r"(?s)lack \['rate_effect'\].*Hint: pass base"):
        mix_rate_chart({"base": 1.0, "mix": 0.1})
    with pytest.raises(KpitoolsError, match=r"(?s)does not add up"):
        mix_rate_chart({"base": 100, "mix": 5, "rate": 5, "compare": 120})


# --------------------------------------------------------------------------- shared rules


@pytest.mark.parametrize("call", [
    lambda: trend_chart(pd.Series([1.0]), unit="permille"),
    lambda: bar_chart(pd.Series([1.0]), lang="jp"),
    lambda: trend_chart([1, 2, 3]),
    lambda: share_bar(pd.Series(dtype=float)),
    lambda: trend_chart(pd.Series([np.nan, np.nan], index=["2024Q1", "2024Q2"])),
    lambda: cohort_heatmap(pd.DataFrame([[np.nan, np.nan]])),
])
def test_bad_arguments_raise_kpitools_errors_with_hints(call):
    with pytest.raises(KpitoolsError, match=r"Hint:"):
        call()


def test_inputs_are_not_mutated():
    frame = funnel_frame([50, 20, 5])
    before = frame.copy()
    churn = pd.DataFrame({"reason": ["a", None]})
    churn_before = churn.copy()
    render(funnel_chart(frame))
    render(reasons_chart(churn))
    pd.testing.assert_frame_equal(frame, before)
    pd.testing.assert_frame_equal(churn, churn_before)


def test_package_example_runs():
    result = doctest.testmod(plots)
    assert result.attempted >= 3
    assert result.failed == 0


def test_long_monthly_series_label_only_every_few_months():
    # 36 months, at most 16 labels: every ceil(36 / 16) = 3rd month is labelled.
    revenue = pd.Series(np.arange(36.0), index=pd.period_range("2022-01", periods=36, freq="M"))
    fig = render(trend_chart(revenue, lang="zh-TW"))
    shown = [label for label in ticklabels(fig.axes[0]) if label]
    assert shown[:3] == ["2022年1月", "2022年4月", "2022年7月"]
    assert len(shown) == 12
