"""Model figures: both languages, labels from labels.yaml, plotted values equal to the model's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from kpitools._errors import KpitoolsError
from kpitools.models import (
    BgNbd,
    ShiftedBetaGeometric,
    plots,
    repeat_purchase_tracking,
    rfm_summary,
)
from kpitools.models.clv import labels

BG = BgNbd.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
SBG = ShiftedBetaGeometric.from_params(alpha=0.704, beta=1.182)
LANGS = ["zh-TW", "en"]


def _orders() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 400
    customers = rng.integers(0, 80, n).astype(str)
    days = rng.integers(0, 120, n)
    return pd.DataFrame({"customer_id": customers,
                         "order_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, "D"),
                         "amount": rng.uniform(100, 900, n)})


def _title(fig: Figure) -> str:
    return fig.axes[0].get_title()


@pytest.mark.parametrize("lang", LANGS)
def test_p_alive_heatmap(lang):
    fig = plots.p_alive_heatmap(BG, T=39, max_frequency=10, lang=lang)
    assert isinstance(fig, Figure)
    assert _title(fig) == labels()["plots"]["p_alive_heatmap"]["title"][lang]
    values = fig.axes[0].collections[0].get_array().reshape(11, -1)
    # top row is x = 10; bottom row is x = 0, where P(alive) = 1
    np.testing.assert_allclose(values[-1], 1.0)
    assert values[0, -1] == pytest.approx(BG.probability_alive(10, 39, 39)[0])


@pytest.mark.parametrize("lang", LANGS)
def test_calibration_holdout_and_tracking(lang):
    orders = _orders()
    split = rfm_summary(orders, observation_end="2024-04-29", calibration_end="2024-02-29",
                        time_scaler=7)
    fig = plots.calibration_holdout_plot(BG, split, max_frequency=3, lang=lang)
    assert _title(fig) == labels()["plots"]["calibration_holdout"]["title"][lang]
    actual_line = fig.axes[0].lines[0]
    groups = np.minimum(split["frequency"], 3)
    expected = split.groupby(groups)["frequency_holdout"].mean().to_numpy()
    np.testing.assert_allclose(actual_line.get_ydata(), expected)

    tracking = repeat_purchase_tracking(orders, origin="2024-01-01", observation_end="2024-04-29")
    entry = (pd.Timestamp("2024-02-29") - pd.Timestamp("2024-01-01")).days / 7 - split["T"]
    fig = plots.tracking_plot(BG, tracking, entry, calibration_end=8.4, lang=lang)
    model_line = fig.axes[0].lines[1]
    np.testing.assert_allclose(model_line.get_ydata(), BG.expected_cumulative_transactions(
        entry, tracking["period"].to_numpy(dtype=float)))
    unit = labels()["units"]["weeks"][lang]
    assert unit in fig.axes[0].get_xlabel()


@pytest.mark.parametrize("lang", LANGS)
def test_retention_plot(lang):
    observed = [1.0, 0.631, 0.468, 0.382]
    fig = plots.retention_plot(SBG, periods=6, actual=observed, lang=lang)
    ax = fig.axes[0]
    assert _title(fig) == labels()["plots"]["retention"]["title"][lang]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), SBG.survival(np.arange(7)))
    np.testing.assert_allclose(ax.lines[1].get_ydata(), observed)


def test_bad_plot_arguments():
    with pytest.raises(KpitoolsError, match="lang='ja' is not supported"):
        plots.retention_plot(SBG, lang="ja")
    with pytest.raises(KpitoolsError, match="unit='fortnights' is not known"):
        plots.retention_plot(SBG, unit="fortnights")
    with pytest.raises(KpitoolsError, match="need T > 0"):
        plots.p_alive_heatmap(BG, T=0)
    with pytest.raises(KpitoolsError, match="actual lacks column 'period'"):
        plots.tracking_plot(BG, pd.DataFrame({"x": [1]}), [0.0])
