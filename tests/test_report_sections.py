"""Report sections on the sample clients: numbers agree with the catalog, text in both languages."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

import kpitools
from kpitools import KpitoolsError
from kpitools.report.sections import QuarterReport, Section


@pytest.fixture(scope="module")
def cloudledger(sample_dir):
    return kpitools.load_client(sample_dir / "cloudledger")


@pytest.fixture(scope="module")
def blog(sample_dir):
    return kpitools.load_client(sample_dir / "pandablog")


@pytest.fixture(scope="module")
def saas_report(cloudledger):
    return QuarterReport(cloudledger, "2024Q4", lang="en")


def test_headline_values_are_the_catalog_values(saas_report, cloudledger):
    headline = {h["kpi"]: h for h in saas_report.headline()}
    # Goal KPIs lead, then the SaaS headline list.
    assert list(headline)[:4] == saas_report.goal_kpis
    for kpi_id in ("mrr", "acv", "logo_churn_rate", "nrr"):
        expected = kpitools.compute_kpi(kpi_id, cloudledger, "2024Q4")
        assert headline[kpi_id]["value"] == pytest.approx(expected)
    assert headline["logo_churn_rate"]["formatted"].endswith("%")


def test_goal_entries_match_the_scorecard(saas_report, cloudledger):
    card = kpitools.scorecard(cloudledger.goals, cloudledger, "2024Q4", lang="en")
    goals = saas_report.goals()
    assert [g["goal_id"] for g in goals] == card["goal_id"].tolist()
    for entry, (_, row) in zip(goals, card.iterrows(), strict=True):
        assert entry["actual"] == pytest.approx(row["actual"])
        assert entry["attainment"] == pytest.approx(row["attainment"])
    json.dumps(goals)  # metrics.json must be able to hold them


def test_sections_follow_the_data(saas_report, blog):
    keys = [s.key for s in saas_report.sections()]
    assert keys == ["summary", "scorecard", "trends", "value", "sales", "retention", "method"]
    blog_keys = [s.key for s in QuarterReport(blog, "2024Q4", lang="zh-TW").sections()]
    assert blog_keys == ["summary", "scorecard", "trends", "web", "method"]


def test_saas_story_is_found(cloudledger):
    # The sample's ACV dip in 2024Q1 comes from the Enterprise share (see data/sample story).
    q1 = QuarterReport(cloudledger, "2024Q1", lang="en")
    text = " ".join(q1.summary().paragraphs)
    assert "mainly because Enterprise's share of new contracts fell" in text
    assert "Cold outbound converts only" in text and "cold_outbound" not in text
    zh = " ".join(QuarterReport(cloudledger, "2024Q1", lang="zh-TW").summary().paragraphs)
    assert "「企業版」占新約的比例" in zh


def test_tables_are_in_the_report_language(cloudledger):
    zh = QuarterReport(cloudledger, "2024Q4", lang="zh-TW").scorecard()
    (_, table), = zh.tables
    assert list(table.columns) == ["負責人", "目標", "實際", "達成率", "狀態"]
    en = QuarterReport(cloudledger, "2024Q4", lang="en").scorecard()
    (_, table), = en.tables
    assert list(table.columns) == ["Owner", "Target", "Actual", "Attainment", "Status"]


def test_section_html_escapes_client_text():
    frame = pd.DataFrame({"reason": ["<script>alert(1)</script>"]})
    html = Section("x", "<b>title</b>", paragraphs=["<script>x</script>"],
                   tables=[("cap", frame)])._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "&lt;b&gt;title&lt;/b&gt;" in html


def test_bad_arguments(cloudledger):
    with pytest.raises(KpitoolsError, match="a quarterly report needs a quarter"):
        QuarterReport(cloudledger, "2024-07")
    with pytest.raises(KpitoolsError, match="trailing_quarters must be a whole number"):
        QuarterReport(cloudledger, "2024Q4", trailing_quarters=1)
    with pytest.raises(KpitoolsError, match="unknown language"):
        QuarterReport(cloudledger, "2024Q4", lang="fr")


def test_trend_table_spans_the_trailing_quarters(saas_report):
    table = saas_report.trend_table
    assert list(table.columns) == ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]
    assert not math.isnan(table.loc["mrr", "2024Q1"])


def test_rate_changes_are_in_percentage_points(saas_report, cloudledger):
    (_, table), = saas_report.retention().tables
    now = kpitools.compute_kpi("logo_churn_rate", cloudledger, "2024Q4")
    before = kpitools.compute_kpi("logo_churn_rate", cloudledger, "2024Q3")
    # A rate's change is the difference in percentage points, e.g. 1.1% after 2.1% → -0.9 pp.
    expected = f"{(now - before) * 100:+.1f} pp"
    assert table.loc["Customer (logo) churn rate", "Change"] == expected
    # 5 of 242 customers against 3 of 266 (see test_noise.py): within normal variation.
    assert table.loc["Customer (logo) churn rate", "Against previous quarter"] == (
        "Within normal variation")


def test_sections_are_built_once_per_report(cloudledger, monkeypatch):
    # The notebook shows each section, then asks for the analyst notes (which walk every
    # section): the second walk must reuse the sections, not compute a KPI again.
    import kpitools.report.sections as sections

    report = QuarterReport(cloudledger, "2024Q4", lang="en")
    shown = [report.summary(), report.scorecard(), report.value(), report.sales(),
             report.retention()]
    calls = []
    original = sections.compute_kpi
    monkeypatch.setattr(sections, "compute_kpi",
                        lambda *a, **k: calls.append(a[0]) or original(*a, **k))
    report.analyst_notes()
    assert calls == []
    assert report.summary() is shown[0] and report.retention() is shown[4]
    # another report of the same client and quarter computes its own
    other = QuarterReport(cloudledger, "2024Q4", lang="en")
    assert other.summary() is not shown[0]
    assert other.summary().paragraphs == shown[0].paragraphs


def test_the_workbook_runs_no_query_once_the_sections_are_built(cloudledger, monkeypatch,
                                                                tmp_path):
    # report.xlsx holds the findings in both languages: the twin report in the other language
    # takes every number and table from this report's queries (it used to run the findings'
    # queries again: funnel, ACV mix, churn reasons).
    import ibis.backends.duckdb as duckdb_backend

    report = QuarterReport(cloudledger, "2024Q4", lang="en")
    for section in ("summary", "scorecard", "trends", "value", "sales", "retention"):
        getattr(report, section)()
    queries = []
    original = duckdb_backend.Backend.execute
    monkeypatch.setattr(duckdb_backend.Backend, "execute",
                        lambda self, expr, *a, **k: queries.append(expr) or original(
                            self, expr, *a, **k))
    assert report.write_workbook(tmp_path / "report.xlsx").exists()
    assert queries == []


def test_quarter_tables_read_each_set_based_kpi_with_one_query(blog, monkeypatch):
    """The web table needs each KPI for the four quarters (to leave out KPIs without data),
    then this quarter against the last, and the scorecard needs the goals' KPIs (the blog's
    are sessions and engagement) for this quarter: a set-based KPI is read with one grouped
    query for all of them (or taken from the trend table), never quarter by quarter through
    its per-period function."""
    import functools

    from kpitools import catalog
    from kpitools.metrics import web

    web_kpis = ["sessions", "active_users", "engagement_rate", "bounce_rate",
                "average_engagement_seconds", "key_events", "revenue_per_session"]
    per_period = []
    for name in web_kpis:
        function = getattr(web, name)
        counting = functools.wraps(function)(
            lambda *a, _f=function, _n=name, **k: per_period.append(_n) or _f(*a, **k))
        monkeypatch.setattr(web, name, counting)
    catalog._resolve.cache_clear()
    try:
        report = QuarterReport(blog, "2024Q4", lang="en")
        report.summary()  # the trend table first, then the scorecard of the goals' KPIs
        section = report.web()
    finally:
        catalog._resolve.cache_clear()
    assert per_period == []
    shown = section.tables[0][1]
    assert len(shown) >= 5  # the blog has sessions, users, engagement and key events
    # this quarter's sessions are the catalog's value
    sessions = kpitools.compute_kpi("sessions", blog, "2024Q4")
    assert shown.iloc[0, 0] == report._fmt(sessions, "count")
