"""Why did average ACV change? A mix / rate decomposition and a sentence for the report.

Average ACV over the contracts started in a period is a weighted mean of segment averages:
``A = Σ_i s_i · a_i`` with ``s_i`` the share of contracts in segment *i* (e.g. tier) and ``a_i``
its average ACV. Between a base period (0) and a compare period (1) the change splits exactly into

* **mix effect** ``Σ_i (s1_i − s0_i) · (ā_i − Ā)`` — customers moved between segments;
* **rate effect** ``Σ_i (a1_i − a0_i) · s̄_i`` — contracts got bigger or smaller within segments,

where ``ā_i = (a0_i + a1_i) / 2``, ``s̄_i = (s0_i + s1_i) / 2`` and ``Ā = (A0 + A1) / 2``. This is
the symmetric (midpoint) shift-share: mix + rate = A1 − A0 with no residual, and swapping the
periods flips both signs. Subtracting ``Ā`` does not change the total mix (the share changes sum
to zero) but makes each segment's entry readable: a segment gaining share raises ACV only if its
contracts are above the average. A segment present in only one period is given the same average
ACV in both (so its whole contribution is mix).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import pandas as pd

from kpitools._engine import TableLike, to_pandas
from kpitools._errors import KpitoolsError
from kpitools.metrics._contracts import check_choice, texts
from kpitools.metrics.revenue import acv_rows
from kpitools.periods import Period, as_period

__all__ = ["AcvChange", "acv_mix_rate", "explain_acv_change"]

#: Relative change below which average ACV counts as unchanged.
FLAT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class AcvChange:
    """Result of :func:`acv_mix_rate`; amounts in currency per year, shares as fractions."""

    base_period: str
    compare_period: str
    by: str
    acv_base: float
    acv_compare: float
    change: float
    change_rate: float
    mix_effect: float
    rate_effect: float
    driver: str  # "mix", "rate" or "none"
    driver_segment: str | None
    segments: pd.DataFrame = field(repr=False)

    def effects(self) -> pd.Series:
        """``base, mix_effect, rate_effect, compare`` — the bridge that
        :func:`kpitools.plots.mix_rate_chart` draws (no interaction term: the split is exact)."""
        return pd.Series({"base": self.acv_base, "mix_effect": self.mix_effect,
                          "rate_effect": self.rate_effect, "compare": self.acv_compare})

    def to_dict(self) -> dict:
        """Plain dict (segments as a list of records), e.g. for JSON or a report template."""
        out = asdict(self)
        out["segments"] = self.segments.to_dict(orient="records")
        return out


def _segment_stats(contracts, period: Period, by: str, include_one_time: bool) -> pd.DataFrame:
    t = acv_rows(contracts, period, include_one_time=include_one_time, by=by)
    g = to_pandas(t.group_by(by).aggregate(n=t.count(), acv=t.acv.mean()))
    if g.empty:
        raise KpitoolsError(
            f"no contract started in {period}, so its average ACV is undefined.\n"
            "Hint: pick periods in which contracts were signed (check contracts.start_date)."
        )
    return g.set_index(by)


def acv_mix_rate(
    contracts: TableLike,
    base_period: str | Period,
    compare_period: str | Period,
    *,
    by: str = "tier",
    include_one_time: bool = False,
) -> AcvChange:
    """Split the change in average ACV between two periods into mix and rate effects.

    Parameters
    ----------
    contracts : table
        Needs the ``by`` column (default ``tier``); empty labels become "(missing)".
    base_period, compare_period : str or Period
        Contracts whose ``start_date`` falls in each period (flow convention).
    by : str
        Segment column.
    include_one_time : bool
        Passed to :func:`~kpitools.metrics.revenue.acv`.

    Returns
    -------
    AcvChange
        ``acv_base``, ``acv_compare``, ``change`` (= mix_effect + rate_effect exactly),
        ``change_rate`` (change ÷ acv_base), the two effects, ``driver`` (the larger effect in
        absolute value, "none" when ACV did not move), ``driver_segment`` (the segment with the
        largest entry of that effect in the direction of the change) and ``segments``: one row
        per segment with ``n_base, n_compare, share_base, share_compare, acv_base, acv_compare,
        mix_effect, rate_effect, contribution``.

    Raises
    ------
    KpitoolsError
        When a period has no contracts.

    Notes
    -----
    Symmetric shift-share decomposition (see the module docstring); ACV per contract as in
    kpi-definitions.md §1.4.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"contract_id": list("pqrstu"), "customer_id": list("pqrstu"),
    ...     "start_date": pd.to_datetime(["2024-01-05"] * 3 + ["2024-04-05"] * 3),
    ...     "end_date": pd.to_datetime(["2025-01-04"] * 3 + ["2025-04-04"] * 3),
    ...     "total_value": [1000.0, 1000.0, 4000.0, 1000.0, 1000.0, 1000.0],
    ...     "tier": ["basic", "basic", "enterprise", "basic", "basic", "basic"]})
    >>> r = acv_mix_rate(c, "2024Q1", "2024Q2")
    >>> r.acv_base, r.acv_compare, r.mix_effect, r.rate_effect, r.driver, r.driver_segment
    (2000.0, 1000.0, -1000.0, 0.0, 'mix', 'enterprise')
    """
    b, k = as_period(base_period), as_period(compare_period)
    s0 = _segment_stats(contracts, b, by, include_one_time)
    s1 = _segment_stats(contracts, k, by, include_one_time)
    seg = pd.DataFrame(index=s0.index.union(s1.index).rename("segment"))
    seg["n_base"] = s0["n"].reindex(seg.index).fillna(0).astype(int)
    seg["n_compare"] = s1["n"].reindex(seg.index).fillna(0).astype(int)
    seg["share_base"] = seg["n_base"] / seg["n_base"].sum()
    seg["share_compare"] = seg["n_compare"] / seg["n_compare"].sum()
    a0 = s0["acv"].reindex(seg.index)
    a1 = s1["acv"].reindex(seg.index)
    seg["acv_base"] = a0.fillna(a1)
    seg["acv_compare"] = a1.fillna(a0)
    total0 = float((seg["share_base"] * seg["acv_base"]).sum())
    total1 = float((seg["share_compare"] * seg["acv_compare"]).sum())
    mid_acv = (seg["acv_base"] + seg["acv_compare"]) / 2
    mid_share = (seg["share_base"] + seg["share_compare"]) / 2
    share_shift = seg["share_compare"] - seg["share_base"]
    seg["mix_effect"] = share_shift * (mid_acv - (total0 + total1) / 2)
    seg["rate_effect"] = (seg["acv_compare"] - seg["acv_base"]) * mid_share
    seg["contribution"] = seg["mix_effect"] + seg["rate_effect"]
    change = total1 - total0
    mix, rate = float(seg["mix_effect"].sum()), float(seg["rate_effect"].sum())
    if abs(change) <= FLAT_TOLERANCE * max(abs(total0), abs(total1), 1.0):
        driver, driver_segment = "none", None
    else:
        driver = "mix" if abs(mix) >= abs(rate) else "rate"
        effect = seg[f"{driver}_effect"]
        aligned = effect[effect * change > 0]
        pick = aligned if not aligned.empty else effect
        driver_segment = str(pick.abs().idxmax())
    return AcvChange(
        base_period=str(b), compare_period=str(k), by=by,
        acv_base=total0, acv_compare=total1, change=change,
        change_rate=change / total0 if total0 else math.nan,
        mix_effect=mix, rate_effect=rate, driver=driver, driver_segment=driver_segment,
        segments=seg.reset_index(),
    )


def _pct(x: float) -> str:
    return f"{x:.0%}" if abs(x) >= 0.01 or x == 0 else f"{x:.1%}"


def explain_acv_change(result: AcvChange, lang: str = "zh-TW") -> str:
    """One sentence for a report naming the main reason average ACV moved.

    ``lang`` is ``"zh-TW"`` or ``"en"``; the templates live in ``metrics/texts.yaml``.
    A mix-driven change names the segment whose share moved most in the direction of the
    change; a rate-driven one names the segment whose own average ACV moved most.

    Examples
    --------
    >>> import pandas as pd
    >>> seg = pd.DataFrame({"segment": ["enterprise"], "share_base": [0.3],
    ...     "share_compare": [0.18], "acv_base": [100.0], "acv_compare": [100.0]})
    >>> r = AcvChange("2024Q1", "2024Q2", "tier", 50000.0, 44000.0, -6000.0, -0.12,
    ...     -6000.0, 0.0, "mix", "enterprise", seg)
    >>> print(explain_acv_change(r, "en"))  # doctest: +NORMALIZE_WHITESPACE
    Average ACV fell 12% (2024Q1 → 2024Q2) mainly because the enterprise share dropped
    from 30% to 18%.
    >>> explain_acv_change(r)
    '平均 ACV 下降 12%（2024Q1 → 2024Q2），主因是 enterprise 方案占比從 30% 降至 18%。'
    """
    check_choice("lang", lang, ("zh-TW", "en"))
    words = texts()["acv_change"][lang]
    nouns = texts()["segment_nouns"]
    noun = nouns.get(result.by, nouns["default"])[lang]
    fill = {
        "base_period": result.base_period,
        "compare_period": result.compare_period,
        "acv_compare": f"{result.acv_compare:,.0f}",
    }
    if result.driver == "none" or result.driver_segment is None:
        return words["flat"].format(**fill)
    row = result.segments.set_index("segment").loc[result.driver_segment]
    fill.update(
        verb=words["up" if result.change > 0 else "down"],
        pct=_pct(abs(result.change_rate)),
        segment=result.driver_segment,
        noun=noun,
        share_verb=words["share_up" if row["share_compare"] > row["share_base"] else "share_down"],
        share_base=_pct(row["share_base"]),
        share_compare=_pct(row["share_compare"]),
        acv_verb=words["acv_up" if row["acv_compare"] > row["acv_base"] else "acv_down"],
        acv_base=f"{row['acv_base']:,.0f}",
        acv_compare=f"{row['acv_compare']:,.0f}",
    )
    return words[result.driver].format(**fill)
