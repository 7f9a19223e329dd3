"""Choosing 3–5 KPIs for a strategy, and the warnings about a KPI set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pytest

from kpitools._errors import KpitoolsError, UnknownKPIError
from kpitools.goals import recommend_kpis, review_kpi_set
from kpitools.goals.recommend import kpis_overlap


@dataclass(frozen=True)
class FakeKPI:
    id: str
    tables: tuple
    strategies: tuple
    business_models: tuple = ("saas",)
    unit: str = "currency"
    direction: str = "higher"

    def name_for(self, lang):
        return f"{self.id}-{lang}"


class FakeCatalog:
    entries: ClassVar[list] = [
        FakeKPI("mrr", ("contracts",), ("grow_revenue",)),
        FakeKPI("arr", ("contracts",), ("grow_revenue", "grow_account_value")),
        FakeKPI("acv", ("contracts",), ("grow_revenue", "grow_account_value")),
        FakeKPI("nrr", ("contracts",), ("retain_customers", "grow_account_value")),
        FakeKPI("churn_rate", ("contracts",), ("retain_customers",)),
        FakeKPI("csat", ("feedback",), ("customer_satisfaction", "retain_customers")),
        FakeKPI("win_rate", ("deals",), ("sales_efficiency", "grow_revenue")),
        FakeKPI("aov", ("orders",), ("grow_revenue",), ("ecommerce",)),
    ]

    def list_kpis(self, *, business_model=None, strategy=None):
        wanted = {strategy} if isinstance(strategy, str) else set(strategy or ())
        return [k for k in self.entries
                if (business_model is None or business_model in k.business_models)
                and (not wanted or wanted & set(k.strategies))]

    def get_kpi(self, kpi_id):
        for k in self.entries:
            if k.id == kpi_id:
                return k
        raise UnknownKPIError(f"unknown KPI {kpi_id!r}.\nHint: check the id.")

    def strategy_label(self, sid, lang):
        return {"zh-TW": f"策略{sid}", "en": f"strategy {sid}"}[lang]

    def business_model_label(self, model, lang):
        return {"zh-TW": "B2B／SaaS 訂閱", "en": "B2B / SaaS subscriptions"}[lang]


CAT = FakeCatalog()


def test_recommendation_covers_each_strategy_then_fills_by_score():
    rec = recommend_kpis(["retain_customers", "grow_account_value"], "saas", n=3, lang="en",
                         catalog=CAT)
    # scores: nrr serves both (2 + 2 + primary 1 = 5), churn_rate 3, csat 3, arr 2, acv 2.
    # cover retain → nrr; cover grow_account_value → nrr again is taken, next is arr (2)…
    # arr and acv tie at 2; catalog order picks arr. Fill: churn_rate (3).
    assert list(rec["kpi_id"]) == ["nrr", "arr", "churn_rate"]
    assert list(rec["score"]) == [5, 2, 3]
    assert rec.loc[0, "reason"] == (
        "serves: strategy retain_customers, strategy grow_account_value; "
        "suits B2B / SaaS subscriptions")


def test_overlapping_kpis_are_not_both_recommended():
    rec = recommend_kpis("grow_revenue", "saas", n=3, lang="en", catalog=CAT)
    ids = list(rec["kpi_id"])
    assert not {"mrr", "arr"} <= set(ids)  # ARR = 12 × MRR: a known overlapping pair
    # every candidate scores 2 + 1 = 3 (one strategy, the primary); catalog order breaks the tie:
    # mrr, then arr is skipped (overlaps mrr), acv, win_rate
    assert ids == ["mrr", "acv", "win_rate"]


def test_kpis_without_data_go_last_and_say_so():
    rec = recommend_kpis("retain_customers", "saas", n=3, lang="zh-TW",
                         available_tables=["contracts"], catalog=CAT)
    assert list(rec["kpi_id"]) == ["nrr", "churn_rate", "csat"]
    assert list(rec["has_data"]) == [True, True, False]
    assert rec.loc[2, "reason"].endswith("缺少資料表：feedback")
    assert ";" not in rec.loc[2, "reason"]  # zh-TW parts are joined with the full-width ；
    assert "所需資料已具備（contracts）" in rec.loc[0, "reason"]


def test_n_must_be_three_to_five():
    with pytest.raises(KpitoolsError, match=r"n must be 3 to 5, got 7.*\nHint: the article"):
        recommend_kpis("grow_revenue", n=7, catalog=CAT)
    with pytest.raises(KpitoolsError, match=r"no strategy given"):
        recommend_kpis([], catalog=CAT)


def test_overlap_rule_same_tables_and_strategies():
    a = FakeKPI("x", ("orders",), ("grow_revenue",))
    b = FakeKPI("y", ("orders",), ("grow_revenue",))
    c = FakeKPI("z", ("orders",), ("improve_margin",))
    d = FakeKPI("w", ("orders",), ("grow_revenue",), unit="rate", direction="lower")
    assert kpis_overlap(a, b) and not kpis_overlap(a, c) and not kpis_overlap(a, d)


def test_overlap_rule_on_the_real_catalog():
    from kpitools.catalog import get_kpi

    def pair(x, y):
        return kpis_overlap(get_kpi(x), get_kpi(y))

    assert pair("mrr", "arr")                          # known pair
    assert pair("logo_churn_rate", "gross_mrr_churn_rate")  # two churn rates on contracts
    assert not pair("sessions", "bounce_rate")         # the article tracks both for traffic
    assert not pair("ad_revenue", "affiliate_revenue")  # the article sets both as goals


def test_review_warnings():
    ids = ["mrr", "arr", "acv", "nrr", "churn_rate", "csat"]
    advice = review_kpi_set(ids, available_tables=["contracts"], lang="en", catalog=CAT)
    codes = [a.code for a in advice]
    # mrr/arr: known pair; arr/acv: same tables and the same two strategies
    assert codes == ["too_many", "overlap", "overlap", "no_data"]
    assert advice[0].message.startswith("6 KPIs are chosen; more than 5")
    assert advice[1].kpis == ("mrr", "arr")
    assert advice[2].kpis == ("arr", "acv")
    assert advice[3].message == ('"csat-en" has no data to compute it (missing feedback); add the '
                                 'data or choose another KPI.')


def test_review_few_and_duplicates_and_clean_set():
    codes = [a.code for a in review_kpi_set(["nrr", "nrr"], catalog=CAT)]
    assert codes == ["too_few", "duplicate"]
    assert review_kpi_set(["nrr", "win_rate", "csat"], catalog=CAT) == []
    with pytest.raises(UnknownKPIError, match="unknown KPI 'ltv'"):
        review_kpi_set(["ltv"], catalog=CAT)


def test_against_the_real_catalog():
    from kpitools.catalog import list_kpis

    if not list_kpis(business_model="ecommerce"):
        pytest.skip("the catalog has no e-commerce entries yet")
    rec = recommend_kpis(["grow_revenue", "acquire_customers"], "ecommerce", n=4, lang="zh-TW")
    assert 1 <= len(rec) <= 4
    assert rec["kpi_id"].is_unique
    assert all(r.startswith("服務策略") for r in rec["reason"])
    advice = review_kpi_set(list(rec["kpi_id"]), lang="en")
    assert not [a for a in advice if a.code in ("overlap", "duplicate")]
