"""Goal sentences → goal fields: the source article's examples and our own, zh-TW and English.

Each expected value is read off the sentence by hand: which KPI the words mean for the client's
business model, whether "to"/「到」 makes the number an absolute target or "by"/「提升」 a change,
which quarter or deadline is meant (relative ones from 1 January 2024), the scope and the owner.
"""

from __future__ import annotations

import pytest

from kpitools.catalog.resolve import fold, resolve_kpi
from kpitools.goals.parse import parse_goal

REF = "2024-01-01"  # "today" for relative periods in every case below

# ---------------------------------------------------------------- the source article's sentences
ARTICLE = [
    # SMART section: the model goal, and what it replaces
    ("在2024年第一季度，將每月新增客戶數提升10%", "saas",
     {"kpi": "new_customers", "target_change": 0.10, "period": "2024Q1", "owner": None}),
    ("在2024年第一季度，將每月新增客戶數提升10%", "ecommerce",
     {"kpi": "new_customers_orders", "target_change": 0.10, "period": "2024Q1"}),
    ("改善客戶數", "saas", {"kpi": None, "target_change": None, "period": None}),
    ("提升銷售額", "ecommerce", {"kpi": "revenue", "target_change": None, "period": None}),
    # Specific: B2B customers' average order value +15 % in 2024Q4
    ("在2024年第四季度，將B2B客戶的平均訂單價值提升15%", "ecommerce",
     {"kpi": "aov", "target_change": 0.15, "period": "2024Q4", "scope": "B2B",
      "scope_kind": "segment"}),
    # The software company's example: six months from the reference date, leads from online ads
    ("在接下來的六個月內，透過線上廣告獲得的合格潛在客戶數提升20%", "saas",
     {"kpi": "qualified_leads", "target_change": 0.20, "period": None, "start": "2024-01-01",
      "deadline": "2024-06-30", "scope": "線上廣告", "scope_kind": "channel"}),
    # The blog example: three months from 1 January is exactly 2024Q1
    ("三個月內廣告收入提升20%", "content",
     {"kpi": "ad_revenue", "target_change": 0.20, "period": "2024Q1"}),
    ("三個月內聯盟行銷收入提升15%", "content",
     {"kpi": "affiliate_revenue", "target_change": 0.15, "period": "2024Q1"}),
    # The "to" versus "by"
    ("把贏單率提高到10%", "saas", {"kpi": "win_rate", "target": 0.10, "target_change": None}),
]

# ---------------------------------------------------------------- our own sentences
OWN = [
    # --- English versions of the article's goals
    ("In 2024Q1, increase monthly new customers by 10%", "saas",
     {"kpi": "new_customers", "target_change": 0.10, "period": "2024Q1", "per": "month"}),
    ("In 2024Q1, increase monthly new customers by 10%", "ecommerce",
     {"kpi": "new_customers_orders", "target_change": 0.10}),
    ("improve customer count", "saas", {"kpi": None, "target_change": None, "period": None}),
    ("Raise the win rate to 10% by Q4 2024, owner: Sales", "saas",
     {"kpi": "win_rate", "target": 0.10, "period": "2024Q4", "owner": "Sales"}),
    ("Within three months, grow ad revenue by 20%", "content",
     {"kpi": "ad_revenue", "target_change": 0.20, "period": "2024Q1"}),
    ("In the next six months, increase qualified leads from online ads by 20%", "saas",
     {"kpi": "qualified_leads", "target_change": 0.20, "deadline": "2024-06-30",
      "scope": "online ads", "scope_kind": "channel"}),
    # --- absolute targets, owners, thresholds
    ("2024年客戶流失率降低到5%以下，由客戶成功部負責", "saas",
     {"kpi": "logo_churn_rate", "target": 0.05, "period": "2024", "owner": "客戶成功部",
      "movement": "down"}),
    ("業務部：2024Q2 將年度合約價值提高到 18 萬", "saas",
     {"kpi": "acv", "target": 180_000.0, "period": "2024Q2", "owner": "業務部"}),
    ("CAC below NT$12,000 in 2024Q3 (owner: Marketing)", "saas",
     {"kpi": "cac", "target": 12_000.0, "period": "2024Q3", "owner": "Marketing"}),
    ("客戶滿意度在2024年第二季達到4.5分", "saas",
     {"kpi": "csat_average", "target": 4.5, "period": "2024Q2"}),
    ("CSAT 4.5 by end of Q2 2024", "saas", {"kpi": "csat_average", "target": 4.5,
                                           "period": "2024Q2"}),
    ("NRR to 110% in 2024", "saas", {"kpi": "nrr", "target": 1.10, "period": "2024"}),
    ("Raise the e-commerce conversion rate to 2.5% next quarter", "ecommerce",
     {"kpi": "ecommerce_conversion_rate", "target": 0.025, "period": "2024Q2"}),
    ("下一季把轉換率提高到2.5%", "ecommerce",
     {"kpi": "ecommerce_conversion_rate", "target": 0.025, "period": "2024Q2"}),
    ("下一季把轉換率提高到2.5%", "saas", {"kpi": "win_rate", "target": 0.025}),
    ("年底前把回購率提升到三成", "ecommerce",
     {"kpi": "repeat_purchase_rate", "target": 0.30, "deadline": "2024-12-31"}),
    ("Increase repeat purchase rate to 30% by the end of the year", "ecommerce",
     {"kpi": "repeat_purchase_rate", "target": 0.30, "deadline": "2024-12-31"}),
    # --- relative targets, points, doubling
    ("客户流失率在本季降低2个百分点", "saas",
     {"kpi": "logo_churn_rate", "target_delta": -0.02, "period": "2024Q1"}),
    ("Reduce customer churn rate by 20% in Q3 2024", "saas",
     {"kpi": "logo_churn_rate", "target_change": -0.20, "period": "2024Q3"}),
    ("2024Q3 毛利率提高 2 個百分點，老闆負責", "ecommerce",
     {"kpi": "gross_margin_rate", "target_delta": 0.02, "period": "2024Q3", "owner": "老闆"}),
    ("Lift gross margin rate by 2 percentage points in 2024Q3", "ecommerce",
     {"kpi": "gross_margin_rate", "target_delta": 0.02, "target_change": None}),
    ("Double the number of followers in 2024", "content",
     {"kpi": "followers", "target_change": 1.0, "period": "2024"}),
    ("粉絲數在2024年倍增", "content", {"kpi": "followers", "target_change": 1.0}),
    ("新客數在2024年3月增加50位", "saas",
     {"kpi": "new_customers", "target_delta": 50.0, "period": "2024-03"}),
    ("網站流量在90天內提升30%", "content",
     {"kpi": "sessions", "target_change": 0.30, "start": "2024-01-01",
      "deadline": "2024-03-30"}),  # 1 Jan + 90 days − 1 = 30 March
    # --- baselines: from … to …, year over year, quarter over quarter
    ("把平均客單價從1,100元提高到1,250元", "ecommerce",
     {"kpi": "aov", "baseline": 1100.0, "target": 1250.0}),
    ("Cut the sales cycle from 45 to 30 days by June 30, 2024", "saas",
     {"kpi": "sales_cycle_days", "baseline": 45.0, "target": 30.0, "deadline": "2024-06-30"}),
    ("2024年6月30日前將銷售週期縮短到30天", "saas",
     {"kpi": "sales_cycle_days", "target": 30.0, "deadline": "2024-06-30"}),
    ("今年營收比去年同期成長15%", "ecommerce",
     {"kpi": "revenue", "target_change": 0.15, "period": "2024", "baseline_period": "2023"}),
    ("Grow revenue 15% year over year in 2024Q4, led by the CEO", "ecommerce",
     {"kpi": "revenue", "target_change": 0.15, "baseline_period": "2023Q4", "owner": "CEO"}),
    ("2024Q2 的 MRR 比上一季成長 5%", "saas",
     {"kpi": "mrr", "target_change": 0.05, "period": "2024Q2", "baseline_period": "2024Q1"}),
    ("相較2023年第四季，2024年第一季的ARPA提升8%", "saas",
     {"kpi": "arpa", "target_change": 0.08, "period": "2024Q1", "baseline_period": "2023Q4"}),
    # --- scope: channels and markets
    ("LINE 通路的營收在2024Q2成長20%", "ecommerce",
     {"kpi": "revenue", "target_change": 0.20, "scope": "LINE", "scope_kind": "channel"}),
    ("Grow Shopee revenue by 20% in 2024Q2", "ecommerce",
     {"kpi": "revenue", "scope": "Shopee", "scope_kind": "channel"}),
    ("台中市場的營收在2024年成長一倍", "ecommerce",
     {"kpi": "market_revenue", "target_change": 1.0, "scope": "台中", "scope_kind": "region"}),
    ("日本市場銷售額在2024年達到200萬", "ecommerce",
     {"kpi": "market_revenue", "target": 2_000_000.0, "scope": "日本"}),
    ("Increase revenue from the Japanese market to NT$2M in 2024", "ecommerce",
     {"kpi": "market_revenue", "target": 2_000_000.0, "scope_kind": "region"}),
    ("企業版方案的ACV在2024Q4提升10%，由業務部負責", "saas",
     {"kpi": "acv", "target_change": 0.10, "scope": "企業版", "scope_kind": "tier",
      "owner": "業務部"}),
    # --- Simplified Chinese wording
    ("2024年第三季度客单价提升5%", "ecommerce",
     {"kpi": "aov", "target_change": 0.05, "period": "2024Q3"}),
    ("获客成本在2024年降低10%", "saas", {"kpi": "cac", "target_change": -0.10}),
    ("2024年第二季度销售转化率提高到3%", "ecommerce",
     {"kpi": "ecommerce_conversion_rate", "target": 0.03, "period": "2024Q2"}),
    # --- vague ones: something is missing, and the parser says what
    ("提升品牌知名度", "content", {"kpi": None, "movement": "up"}),
    ("Make customers happier", "saas", {"kpi": None, "target": None}),
    ("讓業績更好", "ecommerce", {"kpi": "revenue", "target": None, "target_change": None}),
    ("Increase sales", "ecommerce", {"kpi": "revenue", "target_change": None, "period": None}),
    ("降低客戶流失率", "saas", {"kpi": "logo_churn_rate", "movement": "down", "period": None}),
    ("We want more leads", "saas", {"kpi": "qualified_leads", "target": None}),
    ("今年要多賺一點", "ecommerce", {"kpi": None, "period": "2024"}),
    # --- leading labels that are not owners, and owners that lead
    ("業務目標：2024Q4 贏單率提高到 10%", "saas",
     {"kpi": "win_rate", "owner": None, "target": 0.10}),
    ("Goal: raise the win rate to 10 percent in 2024Q4", "saas",
     {"kpi": "win_rate", "owner": None, "target": 0.10}),
    ("行銷部：下一季 CAC 降低 10%", "saas",
     {"kpi": "cac", "owner": "行銷部", "period": "2024Q2", "target_change": -0.10}),
    # --- more deadlines: year ends, "before", halves, "the next 12 months"
    ("Increase MRR by 10% by the end of 2024", "saas",
     {"kpi": "mrr", "target_change": 0.10, "period": "2024"}),
    ("Grow ARR to NT$30M by end of 2024", "saas",
     {"kpi": "arr", "target": 30_000_000.0, "period": "2024"}),
    ("Cut CAC by 15% before July 2024", "saas",
     {"kpi": "cac", "target_change": -0.15, "period": None, "deadline": "2024-06-30"}),
    ("Reduce churn to 1.5% by the end of Q3 2024", "saas",
     {"kpi": "logo_churn_rate", "target": 0.015, "period": "2024Q3"}),
    # "12 months" inside the catalog name "Predicted CLV (12 months)" is not a KPI name
    ("Raise NRR from 102% to 110% over the next 12 months, owner: Customer Success", "saas",
     {"kpi": "nrr", "baseline": 1.02, "target": 1.10, "period": "2024",
      "owner": "Customer Success"}),
    ("2025年上半年把毛利率提升到60%", "ecommerce",
     {"kpi": "gross_margin_rate", "target": 0.60, "start": "2025-01-01",
      "deadline": "2025-06-30"}),
    ("Lift the gross margin rate to 60% in H2 2024", "ecommerce",
     {"kpi": "gross_margin_rate", "target": 0.60, "start": "2024-07-01",
      "deadline": "2024-12-31"}),
    ("在未來兩季把贏單率提高3個百分點", "saas",
     {"kpi": "win_rate", "target_delta": 0.03, "deadline": "2024-06-30"}),
    ("提升客戶留存率", "ecommerce", {"kpi": "repeat_purchase_rate", "target": None}),
    # 1,000 a quarter over a year = 4,000 (qualified leads are a flow)
    ("Reach 1,000 qualified leads per quarter in 2024", "saas",
     {"kpi": "qualified_leads", "target": 4000.0, "per": "quarter"}),
    ("在2024年，B2B業績成長25%", "saas",
     {"kpi": "tcv", "target_change": 0.25, "scope": "B2B", "period": "2024"}),
    ("新北市的營收在2024年第四季提升10%", "saas",
     {"kpi": "mrr", "scope": "新北市", "scope_kind": "region", "period": "2024Q4"}),
]


@pytest.mark.parametrize(("sentence", "model", "expected"), ARTICLE + OWN,
                         ids=[f"{i}" for i in range(len(ARTICLE + OWN))])
def test_goal_sentences(sentence, model, expected):
    parsed = parse_goal(sentence, business_model=model, reference_date=REF)
    for field, value in expected.items():
        got = getattr(parsed, field)
        if isinstance(value, float):
            assert got == pytest.approx(value), (field, got)
        else:
            assert got == value, (field, got)


def test_there_are_at_least_forty_own_sentences_in_both_languages():
    zh = [s for s, _, _ in OWN if any("\u4e00" <= ch <= "\u9fff" for ch in s)]
    assert len(OWN) >= 40 and len(zh) >= 15 and len(OWN) - len(zh) >= 15


def test_missing_lists_what_a_smart_goal_lacks():
    assert parse_goal("改善客戶數", reference_date=REF).missing == ("kpi", "target", "period",
                                                                   "owner")
    article = parse_goal("在2024年第一季度，將每月新增客戶數提升10%", business_model="saas")
    assert article.missing == ("owner",)
    full = parse_goal("Raise the win rate to 10% by Q4 2024, owner: Sales")
    assert full.missing == ()


def test_monthly_absolute_target_of_a_flow_is_scaled_to_the_period():
    # 50 new customers a month over a quarter = 150 in the quarter (new customers are a flow)
    p = parse_goal("每月新增50位新客戶，2024年第一季", business_model="saas")
    assert (p.kpi, p.target, p.period) == ("new_customers", 150.0, "2024Q1")


def test_relative_window_from_mid_month_keeps_a_deadline():
    # 15 Nov 2024 + 3 months − 1 day = 14 Feb 2025; not a calendar quarter, so no period label
    p = parse_goal("三個月內廣告收入提升20%", reference_date="2024-11-15")
    assert (p.period, p.start, p.deadline) == (None, "2024-11-15", "2025-02-14")


def test_to_goal_carries_every_field():
    g = parse_goal("業務部：2024Q2 將年度合約價值提高到 18 萬", business_model="saas").to_goal("g7")
    assert (g.goal_id, g.kpi, g.target, g.period, g.owner) == ("g7", "acv", 180_000.0, "2024Q2",
                                                               "業務部")
    assert g.objective == "業務部：2024Q2 將年度合約價值提高到 18 萬"


# ---------------------------------------------------------------- catalog aliases
ARTICLE_WORDS = {
    "客戶流失率": ("saas", "logo_churn_rate"),
    "客戶生命週期價值": ("saas", "cltv"),
    "平均客戶生命週期價值（CLTV）": ("saas", "cltv"),
    "平均客單價": ("ecommerce", "aov"),
    "銷售轉化率": ("ecommerce", "ecommerce_conversion_rate"),
    "客戶獲取成本": ("saas", "cac"),
    "年度合約價值": ("saas", "acv"),
    "銷售額": ("ecommerce", "revenue"),
    "新客戶開發數量": ("saas", "new_customers"),
    "新市場銷售額": ("ecommerce", "market_revenue"),
    "銷售毛利率": ("ecommerce", "gross_margin_rate"),
    "客戶滿意度調查平均分": ("saas", "csat_average"),
    "客戶反饋處理時效": ("saas", "median_response_hours"),
    "廣告點擊率": ("content", "ad_ctr"),
    "社群媒體粉絲數": ("content", "followers"),
    "品牌提及量": ("content", "mentions"),
    "跳出率": ("content", "bounce_rate"),
    "平均停留時間": ("content", "average_engagement_seconds"),
    "訪客數": ("content", "active_users"),
}


@pytest.mark.parametrize("word", list(ARTICLE_WORDS))
def test_article_words_find_their_kpi(word):
    model, kpi = ARTICLE_WORDS[word]
    assert resolve_kpi(word, business_model=model).kpi == kpi


@pytest.mark.parametrize(("word", "kpi"), [
    ("客户流失率", "logo_churn_rate"), ("客户生命周期价值", "cltv"), ("年度合约价值", "acv"),
    ("获客成本", "cac"), ("销售额", "revenue"), ("复购率", "repeat_purchase_rate"),
    ("customer lifetime value", "cltv"), ("annual contract value", "acv"),
    ("customer acquisition cost", "cac"), ("Churn Rate", "logo_churn_rate"),
    ("click-through rate", "ad_ctr"), ("Win Rates", "win_rate"),
])
def test_simplified_and_english_terms(word, kpi):
    assert resolve_kpi(word, business_model="saas" if kpi in ("cltv", "acv", "cac",
                                                              "logo_churn_rate", "win_rate")
                       else "ecommerce").kpi == kpi


def test_resolution_respects_business_model_and_tables():
    # 「營收」: revenue of orders for a shop, MRR for a subscription business, content revenue for
    # a blog; without a business model the tables decide.
    assert resolve_kpi("營收", business_model="ecommerce").kpi == "revenue"
    assert resolve_kpi("營收", business_model="saas").kpi == "mrr"
    assert resolve_kpi("營收", business_model="content").kpi == "content_revenue"
    assert resolve_kpi("營收", tables=["contracts"]).kpi == "mrr"
    match = resolve_kpi("new customers", tables=["contracts", "deals"])
    assert (match.kpi, match.reason) == ("new_customers", "has_tables")
    assert match.candidates == ("new_customers", "new_customers_orders")


def test_english_terms_match_whole_words_only():
    # "arr" inside "carry" and "cac" inside "cacao" are not KPIs
    assert resolve_kpi("carry the cacao boxes").kpi is None


def test_fold_maps_traditional_and_simplified_alike():
    assert fold("週期價值") == fold("周期价值")


def test_parsed_goal_survives_yaml_and_csv(tmp_path):
    from kpitools.goals import read_goals, write_goals

    text = "在接下來的六個月內，透過線上廣告獲得的合格潛在客戶數提升20%，由行銷部負責"
    goal = parse_goal(text, business_model="saas", reference_date="2024-07-01").to_goal("g1")
    for name in ("goals.yaml", "goals.csv"):
        (back,) = read_goals(write_goals([goal], tmp_path / name))
        assert back == goal, name
        assert (back.extra["start"], back.extra["scope_kind"]) == ("2024-07-01", "channel")
