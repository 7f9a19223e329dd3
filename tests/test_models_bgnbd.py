"""BG/NBD: the published CDNOW fit (FHL 2005) from the shipped summary and from raw transactions,
the Hardie spreadsheet predictions, properties of the predictions, and degenerate input."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpitools._errors import KpitoolsError, ModelFitError
from kpitools.models import BgNbd, fit_bgnbd, rfm_summary

_REPO = Path(__file__).resolve().parents[1]
#: Published CDNOW / sBG data and anchors, kept in the repository (sources in its README).
REF = _REPO / "tests" / "data" / "reference"
#: Published FHL 2005 parameters (sec. 7), used where the anchor says "computed with published".
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def _anchor_rows(model: str) -> list:
    with (REF / "clv_anchors.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["model"] == model]
    return [pytest.param(r, id=r["anchor_id"]) for r in rows]


def tolerance(row: dict) -> float:
    """'abs 5e-4 (MLE …)' → 5e-4; 'exact' → 0."""
    text = row["suggested_tolerance"]
    if text.startswith("exact"):
        return 0.0
    match = re.match(r"abs\s+([0-9.eE+-]+)", text)
    assert match, f"cannot read tolerance {text!r}"
    return float(match.group(1))


def _summary_from_csv() -> pd.DataFrame:
    ref = pd.read_csv(REF / "cdnow_customers_summary_with_transactions.csv")
    return ref.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


def _summary_from_raw() -> pd.DataFrame:
    raw = pd.read_csv(REF / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "sample_id", "date", "n_cds", "amount"],
                      dtype={"date": str, "sample_id": str})
    orders = pd.DataFrame({"customer_id": raw["sample_id"],
                           "order_date": pd.to_datetime(raw["date"], format="%Y%m%d"),
                           "amount": raw["amount"]})
    return rfm_summary(orders, observation_end="1997-09-30", time_unit="D", time_scaler=7)


@pytest.fixture(scope="module", params=["summary_csv", "raw_transactions"])
def cdnow_fit(request) -> BgNbd:
    summary = _summary_from_csv() if request.param == "summary_csv" else _summary_from_raw()
    return fit_bgnbd(summary)


def _anchor_value(row: dict, fit: BgNbd) -> float:
    """The model's value for one anchor row."""
    published = BgNbd.from_params(**PUBLISHED)
    aid = row["anchor_id"]
    if aid in ("bgnbd_r", "bgnbd_alpha", "bgnbd_a", "bgnbd_b"):
        return fit.params[row["quantity"]]
    if aid == "bgnbd_ll":
        return fit.loglik
    if aid == "bgnbd_condexp_c1":  # customer 1: x = 2, t_x = 30.43, T = 38.86, next 39 weeks
        return float(fit.conditional_expected_purchases(39, 2, 30.43, 38.86)[0])
    if aid == "bgnbd_palive_c1":  # "computed with published params"
        return float(published.probability_alive(2, 30.43, 38.86)[0])
    if aid.startswith("bgnbd_ex_"):
        t = float(aid.removeprefix("bgnbd_ex_"))
        return float(fit.expected_purchases_new_customer(t)[0])
    raise AssertionError(f"no check written for anchor {aid}")


@pytest.mark.parametrize("row", _anchor_rows("BG/NBD"))
def test_published_anchor(row, cdnow_fit):
    expected = float(row["value"])
    assert _anchor_value(row, cdnow_fit) == pytest.approx(expected, abs=tolerance(row))


def test_fit_diagnostics(cdnow_fit):
    res = cdnow_fit.result
    assert res.converged and res.n_iter > 0 and isinstance(res.message, str)
    assert res.n_obs == 2357
    se = np.array(list(cdnow_fit.se.values()))
    assert np.all(np.isfinite(se)) and np.all(se > 0)
    # sanity bounds on the SEs: r is pinned down tightly (many customers), b less so
    assert cdnow_fit.se["r"] < 0.05 and cdnow_fit.se["b"] < 2


def test_weights_give_the_same_fit_as_repeated_rows():
    s = pd.DataFrame({"frequency": [0, 1, 3, 0, 2, 5], "recency": [0, 2.0, 7.5, 0, 4, 9],
                      "T": [10, 10, 12, 6, 8, 12.0]})
    w = np.array([5, 2, 1, 3, 2, 1])
    expanded = s.loc[s.index.repeat(w)].reset_index(drop=True)
    a = fit_bgnbd(s, weights=w)
    b = fit_bgnbd(expanded)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-8)
    for k in a.params:
        assert a.params[k] == pytest.approx(b.params[k], rel=1e-4)


def test_penalizer_shrinks_parameters():
    s = _summary_from_csv()
    plain, shrunk = fit_bgnbd(s), fit_bgnbd(s, penalizer=0.1)
    norm = lambda m: sum(v * v for v in m.params.values())  # noqa: E731
    assert norm(shrunk) < norm(plain)
    assert shrunk.loglik < plain.loglik  # the penalised optimum is not the MLE


# --- predictions: identities and hand values ----------------------------------------------------

MODEL = BgNbd.from_params(**PUBLISHED)


def test_probability_of_n_purchases_is_a_distribution_with_mean_e_x():
    n = np.arange(400).reshape(-1, 1)
    t = np.array([1.0, 10.0, 39.0])
    p = MODEL.probability_of_n_purchases(n, t)
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=0), 1.0, atol=1e-6)
    # Σ n·P(X(t) = n) = E[X(t)] (an identity independent of eq. 9's hypergeometric form)
    np.testing.assert_allclose((n * p).sum(axis=0), MODEL.expected_purchases_new_customer(t),
                               rtol=1e-5)


def test_zero_horizon_and_no_purchase_probability():
    assert MODEL.expected_purchases_new_customer(0)[0] == 0
    assert MODEL.conditional_expected_purchases(0, 3, 20, 30)[0] == 0
    assert MODEL.probability_of_n_purchases(0, 0)[0] == pytest.approx(1.0)
    # for n = 0 only the first term of eq. 8 remains:
    # B(a, b)/B(a, b) · (α/(α+t))^r = (4.414/5.414)^0.243 = 0.95162
    assert MODEL.probability_of_n_purchases(0, 1)[0] == pytest.approx(
        (4.414 / 5.414) ** 0.243, rel=1e-12)


def test_probability_alive_by_hand():
    # x = 2, t_x = 30.43, T = 38.86: odds dead = a/(b+x−1)·((α+T)/(α+t_x))^(r+x)
    odds = 0.793 / (2.426 + 1) * ((4.414 + 38.86) / (4.414 + 30.43)) ** (0.243 + 2)
    assert MODEL.probability_alive(2, 30.43, 38.86)[0] == pytest.approx(1 / (1 + odds), rel=1e-12)


def test_cumulative_transactions_with_staggered_entry():
    t = np.array([0.0, 5.0, 10.0, 20.0])
    # everybody entering at 0 → n · E[X(t)]
    np.testing.assert_allclose(MODEL.expected_cumulative_transactions([0, 0, 0], t),
                               3 * MODEL.expected_purchases_new_customer(t))
    # one customer at 0 and one at 5: E[X(t)] + E[X(max(t − 5, 0))]
    both = MODEL.expected_cumulative_transactions([0, 5], t)
    by_hand = (MODEL.expected_purchases_new_customer(t)
               + MODEL.expected_purchases_new_customer(np.clip(t - 5, 0, None)))
    np.testing.assert_allclose(both, by_hand)


def test_predict_adds_columns_without_mutating():
    s = pd.DataFrame({"frequency": [0, 2], "recency": [0.0, 30.43], "T": [38.86, 38.86]})
    before = s.copy()
    out = MODEL.predict(s, 39)
    pd.testing.assert_frame_equal(s, before)
    assert out["p_alive"].iloc[0] == 1.0
    assert out["expected_purchases"].iloc[1] == pytest.approx(
        MODEL.conditional_expected_purchases(39, 2, 30.43, 38.86)[0])


# --- properties ---------------------------------------------------------------------------------

params = st.fixed_dictionaries({
    "r": st.floats(0.05, 5), "alpha": st.floats(0.5, 50),
    "a": st.floats(0.1, 5).filter(lambda v: abs(v - 1) > 0.05), "b": st.floats(0.1, 10)})


@settings(max_examples=60, deadline=None)
@given(p=params, t1=st.floats(0, 100), dt=st.floats(0.01, 100))
def test_expected_purchases_increase_with_t(p, t1, dt):
    m = BgNbd.from_params(**p)
    assert m.expected_purchases_new_customer(t1 + dt)[0] >= m.expected_purchases_new_customer(t1)[0]


@settings(max_examples=60, deadline=None)
@given(p=params, x=st.integers(0, 30), share=st.floats(0, 1), T=st.floats(0.1, 100),
       t1=st.floats(0, 50), dt=st.floats(0.01, 50))
def test_conditional_expectation_increases_with_t_and_p_alive_bounded(p, x, share, T, t1, dt):
    m = BgNbd.from_params(**p)
    t_x = share * T if x > 0 else 0.0
    e1 = m.conditional_expected_purchases(t1, x, t_x, T)[0]
    e2 = m.conditional_expected_purchases(t1 + dt, x, t_x, T)[0]
    assert 0 <= e1 <= e2 + 1e-12
    alive = m.probability_alive(x, t_x, T)[0]
    assert 0 <= alive <= 1
    if x == 0:
        assert alive == 1.0


# --- degenerate input ---------------------------------------------------------------------------

GOOD = {"frequency": [0, 1, 3], "recency": [0.0, 2.0, 7.5], "T": [10.0, 10.0, 12.0]}


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"frequency": [0, 0, 0], "recency": [0.0, 0.0, 0.0]}, "no customer made a repeat"),
        ({"recency": [0.0, 12.0, 7.5]}, r"recency > T for 1 customer"),
        ({"frequency": [0, -1, 3]}, "frequency: 1 negative value"),
        ({"T": [10.0, float("nan"), 12.0]}, "T: 1 missing or infinite"),
        ({"frequency": [0, 1.5, 3]}, "not whole numbers"),
        ({"recency": [1.0, 2.0, 7.5]}, "frequency 0 but recency > 0"),
    ],
)
def test_degenerate_summaries_raise(change, match):
    with pytest.raises(ModelFitError, match=match):
        fit_bgnbd(pd.DataFrame({**GOOD, **change}))


def test_one_customer_and_missing_columns():
    with pytest.raises(ModelFitError, match="only 1 usable customer"):
        fit_bgnbd(pd.DataFrame({"frequency": [2], "recency": [3.0], "T": [5.0]}))
    with pytest.raises(ModelFitError, match=r"lacks column\(s\) \['T'\]"):
        fit_bgnbd(pd.DataFrame({"frequency": [2], "recency": [3.0]}))
    with pytest.raises(KpitoolsError, match="penalizer must be >= 0"):
        fit_bgnbd(pd.DataFrame(GOOD), penalizer=-1)


def test_bad_prediction_arguments():
    with pytest.raises(KpitoolsError, match="t must be finite and >= 0"):
        MODEL.expected_purchases_new_customer(-1)
    with pytest.raises(KpitoolsError, match="must be positive numbers"):
        BgNbd.from_params(r=-1, alpha=1, a=1, b=1)
    with pytest.raises(ModelFitError, match="recency > T"):
        MODEL.probability_alive(2, 40, 30)


def test_transformed_hypergeometric_matches_eq_10_and_survives_large_x():
    from scipy.special import hyp2f1

    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    x, t_x, T, t = np.array([1.0, 4.0, 10.0]), np.array([5.0, 20.0, 30.0]), 38.0, 39.0
    # FHL 2005 eq. 10 as printed, with SciPy's 2F1 (no transformation)
    lead = ((alpha + T) / (alpha + T + t)) ** (r + x)
    bracket = 1 - lead * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    eq10 = (a + b + x - 1) / (a - 1) * bracket / (1 + odds)
    np.testing.assert_allclose(MODEL.conditional_expected_purchases(t, x, t_x, T), eq10,
                               rtol=1e-9)
    # a heavy buyer (x = 300) where the untransformed series overflows
    heavy = MODEL.conditional_expected_purchases(52, 300, 37.9, 38.0)[0]
    assert np.isfinite(heavy) and heavy > 100


def test_unidentified_parameters_are_flagged():
    # four customers, two repeat buyers: the purchase-rate heterogeneity cannot be estimated
    s = pd.DataFrame({"frequency": [1, 2, 0, 0], "recency": [8.43, 19.43, 0, 0],
                      "T": [25.71, 25.29, 12.86, 4.14]})
    fit = fit_bgnbd(s)
    assert not fit.converged
    assert "ran off to an extreme value" in fit.result.message
