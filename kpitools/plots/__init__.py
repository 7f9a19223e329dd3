"""kpitools charts: one look, two languages, real Traditional-Chinese glyphs everywhere.

Importing this package registers the bundled Noto Sans TC font with matplotlib. Each chart
function switches the CJK fonts on (:func:`use_cjk_font`) and draws with the kpitools palette,
whatever seaborn theme the notebook set; :func:`set_theme` applies the same look to your own
plots.

>>> import pandas as pd
>>> from kpitools.plots import trend_chart
>>> revenue = pd.Series([1.2e6, 1.35e6, 1.5e6], index=["2024Q1", "2024Q2", "2024Q3"])
>>> fig = trend_chart(revenue, title="季營收", unit="currency", target=1.4e6, lang="zh-TW")
>>> fig.axes[0].get_title(loc="left")  # kpitools titles are left-aligned
'季營收'
"""

from __future__ import annotations

from kpitools.plots._fonts import BUNDLED_FAMILY, BUNDLED_FONT, cjk_families, use_cjk_font
from kpitools.plots._style import PALETTE, STATUS_COLORS, set_theme
from kpitools.plots.charts import (
    bar_chart,
    cohort_heatmap,
    dual_axis,
    reasons_chart,
    share_bar,
    trend_chart,
)
from kpitools.plots.flows import funnel_chart, mix_rate_chart, waterfall_chart
from kpitools.plots.scorecard import scorecard_chart

__all__ = [
    "BUNDLED_FAMILY",
    "BUNDLED_FONT",
    "PALETTE",
    "STATUS_COLORS",
    "bar_chart",
    "cjk_families",
    "cohort_heatmap",
    "dual_axis",
    "funnel_chart",
    "mix_rate_chart",
    "reasons_chart",
    "scorecard_chart",
    "set_theme",
    "share_bar",
    "trend_chart",
    "use_cjk_font",
    "waterfall_chart",
]
