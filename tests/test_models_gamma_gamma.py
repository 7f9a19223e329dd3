"""Gamma-Gamma: the published CDNOW spend model (Fader & Hardie 2013), hand values, the
frequency/spend correlation warning and degenerate input."""

from __future__ import annotations

import csv
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpitools._errors import KpitoolsError, ModelFitError
from kpitools.models import (
    FrequencyMonetaryCorrelationWarning,
    GammaGamma,
    fit_gamma_gamma,
    rfm_summary,
)

_REPO = Path(__file__).resolve().parents[1]
#: Published CDNOW / sBG data and anchors, kept in the repository (sources in its README).
REF = _REPO / "tests" / "data" / "reference"


def _anchor_rows() -> list:
    with (REF / "clv_anchors.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["model"] == "Gamma-Gamma"]
    return [pytest.param(r, id=r["anchor_id"]) for r in rows]


def _tolerance(text: str) -> float:
    match = re.match(r"abs\s+([0-9.eE+-]+)", text)
    assert match, f"cannot read tolerance {text!r}"
    return float(match.group(1))


@pytest.fixture(scope="module", params=["summary_csv", "raw_transactions"])
def cdnow_summary(request) -> pd.DataFrame:
    if request.param == "summary_csv":
        ref = pd.read_csv(REF / "cdnow_customers_summary_with_transactions.csv")
        return ref.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})
    raw = pd.read_csv(REF / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "sample_id", "date", "n_cds", "amount"],
                      dtype={"date": str, "sample_id": str})
    orders = pd.DataFrame({"customer_id": raw["sample_id"],
                           "order_date": pd.to_datetime(raw["date"], format="%Y%m%d"),
                           "amount": raw["amount"]})
    return rfm_summary(orders, observation_end="1997-09-30", time_scaler=7)


@pytest.fixture(scope="module")
def cdnow_gg(cdnow_summary) -> GammaGamma:
    return fit_gamma_gamma(cdnow_summary)


@pytest.mark.parametrize("row", _anchor_rows())
def test_published_anchor(row, cdnow_gg):
    tol = _tolerance(row["suggested_tolerance"])
    if row["anchor_id"] == "gg_params":
        expected = [float(v) for v in row["value"].split(";")]
        got = [cdnow_gg.params[k] for k in row["quantity"].split(";")]
        np.testing.assert_allclose(got, expected, atol=tol)
    elif row["anchor_id"] == "gg_pop_mean":
        assert cdnow_gg.population_mean_spend == pytest.approx(float(row["value"]), abs=tol)
    else:
        raise AssertionError(f"no check written for anchor {row['anchor_id']}")


def test_fit_facts(cdnow_gg, cdnow_summary):
    res = cdnow_gg.result
    assert res.converged and res.n_obs == 946
    assert all(np.isfinite(v) and v > 0 for v in cdnow_gg.se.values())
    buyers = cdnow_summary[cdnow_summary["frequency"] > 0]
    corr = np.corrcoef(buyers["frequency"], buyers["monetary_value"])[0, 1]
    assert res.diagnostics["frequency_monetary_corr"] == pytest.approx(corr)
    assert abs(corr) < 0.3  # CDNOW is the textbook case where the assumption holds


def test_conditional_spend_by_hand():
    gg = GammaGamma.from_params(p=6.25, q=3.74, gamma=15.44)
    # (pγ + p·x·zbar) / (p·x + q − 1) = (96.5 + 279.375) / 15.24 = 24.66371…
    assert gg.conditional_expected_spend(2, 22.35)[0] == pytest.approx(375.875 / 15.24)
    # x = 0 → the population mean pγ/(q − 1) = 96.5 / 2.74
    assert gg.conditional_expected_spend(0, 0)[0] == pytest.approx(96.5 / 2.74)
    assert gg.population_mean_spend == pytest.approx(96.5 / 2.74)


def test_population_mean_needs_q_above_one():
    with pytest.raises(ModelFitError, match=r"q = 0\.900 <= 1"):
        _ = GammaGamma.from_params(p=2, q=0.9, gamma=3).population_mean_spend


def _correlated_summary() -> pd.DataFrame:
    # spend per purchase grows with frequency: 1 → 10, 2 → 20, …  (r = 1 within each block)
    rng = np.random.default_rng(7)
    x = np.repeat(np.arange(1, 9), 20)
    z = x * 10 + rng.uniform(0, 2, x.size)
    return pd.DataFrame({"frequency": x, "monetary_value": z})


def test_correlated_frequency_and_spend_warns_and_reports():
    with pytest.warns(FrequencyMonetaryCorrelationWarning, match=r"correlated \(r = 1.00\)"):
        gg = fit_gamma_gamma(_correlated_summary())
    assert gg.result.diagnostics["frequency_monetary_corr"] > 0.99


def test_uncorrelated_data_does_not_warn(cdnow_summary):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_gamma_gamma(cdnow_summary)


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame({"frequency": [0, 2], "monetary_value": [0.0, 10.0]}),
         "only 1 repeat buyer"),
        (pd.DataFrame({"frequency": [1, 2, 3], "monetary_value": [10.0, 0.0, 5.0]}),
         "1 repeat buyer\\(s\\) with a value <= 0"),
        (pd.DataFrame({"frequency": [1, 2, 3], "monetary_value": [10.0, np.nan, 5.0]}),
         "monetary_value: 1 missing"),
        (pd.DataFrame({"frequency": [0, 0], "monetary_value": [0.0, 0.0]}),
         "no customer made a repeat purchase"),
        (pd.DataFrame({"frequency": [1, -2, 3], "monetary_value": [10.0, 4.0, 5.0]}),
         "frequency: 1 negative"),
    ],
)
def test_degenerate_input_raises(frame, match):
    with pytest.raises(ModelFitError, match=match):
        fit_gamma_gamma(frame)


def test_bad_parameters():
    with pytest.raises(KpitoolsError, match="must be positive numbers"):
        GammaGamma.from_params(p=0, q=2, gamma=1)
