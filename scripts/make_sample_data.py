"""Generate the three synthetic sample clients in data/sample/.

Usage::

    python scripts/make_sample_data.py [--out data/sample]

Every run with the same numpy/pandas/openpyxl versions writes byte-identical files: each client
draws from its own ``numpy.random.default_rng`` seeded by a fixed number, CSVs use ``\\n`` line
endings, and the one Excel file is rebuilt with fixed zip timestamps and document properties.

The clients are fictional. Their data are built to tell stories that the KPI reports should find:

cloudledger (雲帳科技, B2B accounting SaaS)
    * Enterprise share of contracts started drops in 2024Q1-Q2 (high-end features under-sold),
      so average ACV falls; after the sales training in mid-2024 it recovers in Q3-Q4.
    * cold_outbound leads convert far worse than every other channel.
    * Churn concentrates on one reason: 價格太高 (too expensive).
shop (山嵐茶行, tea e-commerce + one shop)
    * Repeat buying with heterogeneous purchase rates and dropout (BG/NBD-shaped), gift seasons
      around Lunar New Year and Mid-Autumn; store orders come as a Big5 POS export.
pandablog (貓熊先生的部落格, the source article's content blog)
    * Traffic grows; 2024Q4 ad revenue beats its +20 % goal (new ad placements, Q4 advertiser
      demand) while affiliate revenue misses +15 % (the affiliate network cut its commission).

Columns follow kpitools/schemas/tables.yaml: some files use the canonical snake_case names, others
the zh-TW headers a Taiwanese client would send (aliases in tables.yaml, or a ``columns:`` mapping
in client.yml).
"""

from __future__ import annotations

import argparse
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

START = pd.Timestamp("2022-01-01")
END = pd.Timestamp("2024-12-31")  # last day of data (inclusive)
DAYS = pd.date_range(START, END, freq="D")
MONTHS = pd.date_range(START, END, freq="MS")
ROC_YEAR_OFFSET = 1911  # Minguo year = Gregorian year - 1911
MONTHS_PER_YEAR = 12
SEEDS = {"cloudledger": 20240101, "shop": 20240202, "pandablog": 20240303}
EXCEL_TIMESTAMP = (2025, 1, 2, 9, 0, 0)  # fixed "export time" of the CRM spreadsheet
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "data" / "sample"


# --------------------------------------------------------------------------------------------
# small shared helpers
# --------------------------------------------------------------------------------------------
def years_since_start(dates: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Fractional years elapsed since START (0 on 2022-01-01, ~3 on 2024-12-31)."""
    return np.asarray((pd.DatetimeIndex(dates) - START).days, dtype=float) / 365.25


def quarter_label(dates: pd.Series) -> pd.Series:
    """'2024Q3' style labels for a date column."""
    return dates.dt.year.astype(str) + "Q" + dates.dt.quarter.astype(str)


def random_dates_in_months(rng: np.random.Generator, month_starts: pd.DatetimeIndex) -> pd.Series:
    """One uniformly random day inside each given month."""
    month_starts = pd.DatetimeIndex(month_starts)
    offsets = np.floor(rng.random(len(month_starts)) * month_starts.days_in_month).astype(int)
    return pd.Series(month_starts + pd.to_timedelta(offsets, unit="D"))


def add_months_minus_day(start: pd.Series, months: pd.Series) -> pd.Series:
    """Inclusive end date: start + months - 1 day (2024-01-01 + 12 -> 2024-12-31)."""
    end = pd.Series(pd.NaT, index=start.index, dtype="datetime64[ns]")
    for n in np.unique(months):  # only a handful of distinct terms (6, 12, 24, 36)
        mask = months == n
        end[mask] = start[mask] + pd.DateOffset(months=int(n)) - pd.Timedelta(days=1)
    return end


def pick(rng: np.random.Generator, options: dict, size: int) -> np.ndarray:
    """Draw `size` values from {value: weight}."""
    values = list(options)
    weights = np.array(list(options.values()), dtype=float)
    return np.array(values, dtype=object)[
        rng.choice(len(values), size=size, p=weights / weights.sum())
    ]


def roc_date(dates: pd.Series) -> pd.Series:
    """Minguo calendar text as Taiwanese POS systems print it: 2024-01-05 -> '113/01/05'."""
    return (
        (dates.dt.year - ROC_YEAR_OFFSET).astype(str)
        + "/"
        + dates.dt.month.map("{:02d}".format)
        + "/"
        + dates.dt.day.map("{:02d}".format)
    )


def nt_dollars(values: pd.Series) -> pd.Series:
    """Whole-dollar amounts as 'NT$1,234'."""
    return values.round().astype(int).map("NT${:,}".format)


def iso(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%Y-%m-%d")


def slash_date(dates: pd.Series) -> pd.Series:
    """'2024/1/5' (no zero padding), the way Excel shows dates on zh-TW Windows."""
    return (
        dates.dt.year.astype(str)
        + "/"
        + dates.dt.month.astype(str)
        + "/"
        + dates.dt.day.astype(str)
    )


# --------------------------------------------------------------------------------------------
# 1. CloudLedger: B2B accounting SaaS
# --------------------------------------------------------------------------------------------
SAAS_CHANNELS = ["website", "referral", "events", "partners", "cold_outbound"]
SAAS_STAGES = ["lead", "qualified", "demo", "proposal", "negotiation", "won"]
# Deals created per month at the start of 2022 (volume grows ~15 % a year).
SAAS_DEALS_PER_MONTH = {
    "website": 28,
    "referral": 8,
    "events": 11,
    "partners": 9,
    "cold_outbound": 32,
}
# Probability of advancing from each stage to the next (5 steps: lead->qualified ... ->won).
SAAS_ADVANCE = {
    "website": [0.55, 0.72, 0.65, 0.68, 0.62],
    "referral": [0.75, 0.82, 0.72, 0.72, 0.66],
    "events": [0.50, 0.68, 0.62, 0.64, 0.58],
    "partners": [0.62, 0.76, 0.68, 0.70, 0.62],
    "cold_outbound": [0.18, 0.45, 0.42, 0.50, 0.45],  # the leaky channel
}
SAAS_LOST_REASONS = {  # zh-TW, as typed by the reps in the CRM
    "qualified": {"預算不足": 4, "非決策者": 3, "無回應": 5},
    "demo": {"功能不符需求": 4, "無回應": 3, "時機未到": 3},
    "proposal": {"價格太高": 5, "選擇競品": 3, "時機未到": 2},
    "negotiation": {"價格太高": 5, "選擇競品": 4, "內部決議暫緩": 2},
}
SALES_REPS = ["陳怡君", "林志豪", "王雅婷", "張家豪", "李佳穎"]
LATE_HIRE, LATE_HIRE_START = "李佳穎", pd.Timestamp("2023-01-01")
TIERS = ["Basic", "Pro", "Enterprise"]
TIER_ANNUAL_PRICE = {"Basic": 36_000, "Pro": 120_000, "Enterprise": 480_000}  # TWD per year
TIER_SETUP_FEE = {"Basic": 6_000, "Pro": 30_000, "Enterprise": 120_000}  # one-time, new logos
TIER_RENEWAL_RATE = {"Basic": 0.68, "Pro": 0.80, "Enterprise": 0.88}
PRICE_INCREASE_PER_YEAR = 0.03
MULTI_YEAR_DISCOUNT = {6: 0.0, 12: 0.0, 24: 0.05, 36: 0.10}
PILOT_MONTHS, PILOT_PRICE_FACTOR, PILOT_CONVERSION = 6, 0.8, 0.6
NEW_LOGO_TERMS = {6: 0.10, 12: 0.55, 24: 0.20, 36: 0.15}
RENEWAL_TERMS = {12: 0.70, 24: 0.20, 36: 0.10}
BILLING_BY_TIER = {
    "Basic": {"monthly": 0.6, "annual": 0.4},
    "Pro": {"quarterly": 0.4, "annual": 0.6},
    "Enterprise": {"annual": 0.7, "upfront": 0.3},
}
SAAS_CHURN_REASONS = {
    "價格太高": 0.55,
    "缺少功能": 0.14,
    "改用競品": 0.12,
    "導入困難": 0.08,
    "公司歇業或併購": 0.06,
    "客服品質不佳": 0.05,
}
N_BASE_CUSTOMERS = 70  # customers already under contract before 2022


SEAT_FACTOR_RANGE = (0.6, 1.8)  # size of an account relative to the list price of its tier


def seat_factor(raw: np.ndarray) -> np.ndarray:
    """Account size multiplier, kept in a plausible range so no deal is a wild outlier."""
    return np.round(np.clip(raw, *SEAT_FACTOR_RANGE), 2)


def enterprise_mix(dates: pd.Series) -> pd.DataFrame:
    """Tier probabilities for a contract signed on each date: the story of the ACV dip.

    2022-2023: normal mix. 2024Q1-Q2: reps stop pitching the Enterprise features, so Enterprise
    nearly disappears. 2024Q3 onward: after the product-knowledge training, Enterprise is back.
    """
    dip = (dates >= "2024-01-01") & (dates < "2024-07-01")
    after = dates >= "2024-07-01"
    ent = np.select([dip, after], [0.03, 0.32], default=0.25)
    pro = np.select([dip, after], [0.50, 0.43], default=0.45)
    return pd.DataFrame({"Basic": 1 - ent - pro, "Pro": pro, "Enterprise": ent}, index=dates.index)


def draw_tiers(rng: np.random.Generator, dates: pd.Series) -> np.ndarray:
    probs = enterprise_mix(dates).to_numpy()
    u = rng.random(len(dates))[:, None]
    return np.array(TIERS, dtype=object)[(u > probs.cumsum(axis=1)).sum(axis=1)]


def contract_values(
    rng: np.random.Generator,
    tier: np.ndarray,
    term_months: np.ndarray,
    start: pd.Series,
    seats: np.ndarray,
    new_logo: np.ndarray,
) -> pd.DataFrame:
    """Recurring value, setup fee and TCV for contracts (TWD, whole dollars)."""
    list_price = pd.Series(tier).map(TIER_ANNUAL_PRICE).to_numpy(dtype=float)
    inflation = (1 + PRICE_INCREASE_PER_YEAR) ** np.clip(start.dt.year.to_numpy() - 2022, 0, None)
    discount = pd.Series(term_months).map(MULTI_YEAR_DISCOUNT).to_numpy(dtype=float)
    annual = list_price * seats * inflation * (1 - discount)
    is_pilot = term_months == PILOT_MONTHS
    years = term_months / MONTHS_PER_YEAR
    recurring = np.where(is_pilot, annual * years * PILOT_PRICE_FACTOR, annual * years)
    recurring = np.round(recurring, -2)
    setup = pd.Series(tier).map(TIER_SETUP_FEE).to_numpy(dtype=float) * new_logo
    setup = np.where(is_pilot, setup / 2, setup)
    return pd.DataFrame(
        {
            "recurring_value": recurring.astype(int),
            "one_time_fees": setup.astype(int),
            "total_value": (recurring + setup).astype(int),
        }
    )


def make_saas_deals(rng: np.random.Generator) -> pd.DataFrame:
    """Pipeline 2022-2024: furthest stage reached per deal, outcome, amount, owner, channel."""
    frames = []
    growth = 1.15 ** years_since_start(MONTHS)
    for channel, base in SAAS_DEALS_PER_MONTH.items():
        counts = rng.poisson(base * growth)
        months = MONTHS.repeat(counts)
        frames.append(
            pd.DataFrame({"channel": channel, "created_date": random_dates_in_months(rng, months)})
        )
    deals = pd.concat(frames, ignore_index=True).sort_values(
        ["created_date", "channel"], kind="stable"
    )
    deals = deals.reset_index(drop=True)
    n = len(deals)

    # furthest stage: count the consecutive successful advances (0 = stayed a lead, 5 = won)
    advance_p = np.array([SAAS_ADVANCE[c] for c in deals["channel"]])
    passed = rng.random((n, len(SAAS_STAGES) - 1)) < advance_p
    reached = np.cumprod(passed, axis=1).sum(axis=1)
    won = reached == len(SAAS_STAGES) - 1
    # deal cycle: longer the further the deal goes
    cycle_days = np.round(7 + reached * rng.gamma(4.0, 4.5, n)).astype(int)
    close = deals["created_date"] + pd.to_timedelta(cycle_days, unit="D")
    is_open = close > END

    deals["tier"] = draw_tiers(rng, close)
    deals["term_months"] = pick(rng, NEW_LOGO_TERMS, n).astype(int)
    deals["seats"] = seat_factor(rng.lognormal(0.0, 0.25, n))
    # service starts 1-14 days after signing, but no later than the last day of data
    start = np.minimum(
        close + pd.to_timedelta(rng.integers(1, 15, n), unit="D"), np.maximum(close, END)
    )
    values = contract_values(
        rng,
        deals["tier"].to_numpy(),
        deals["term_months"].to_numpy(),
        start,
        deals["seats"].to_numpy(),
        np.ones(n),
    )
    deals["amount"] = values["total_value"].to_numpy()
    deals["planned_start"] = start

    stage_idx = np.where(is_open & won, len(SAAS_STAGES) - 2, reached)  # open deals not yet won
    deals["stage"] = np.array(SAAS_STAGES, dtype=object)[stage_idx]
    deals["outcome"] = np.select([is_open, won], ["open", "won"], default="lost")
    deals["close_date"] = close.where(~is_open)
    lost_reason = pd.Series(pd.NA, index=deals.index, dtype="object")
    for stage, reasons in SAAS_LOST_REASONS.items():
        mask = (deals["outcome"] == "lost") & (deals["stage"] == stage)
        lost_reason[mask] = pick(rng, reasons, int(mask.sum()))
    lost_at_lead = (deals["outcome"] == "lost") & (deals["stage"] == "lead")
    lost_reason[lost_at_lead] = "名單不合格"
    deals["lost_reason"] = lost_reason

    reps = np.array(SALES_REPS, dtype=object)
    owner_idx = rng.integers(0, len(reps), n)
    early = deals["created_date"] < LATE_HIRE_START
    owner_idx = np.where(
        early & (reps[owner_idx] == LATE_HIRE), rng.integers(0, len(reps) - 1, n), owner_idx
    )
    deals["owner"] = reps[owner_idx]
    deals["deal_id"] = [f"D{i:05d}" for i in range(1, n + 1)]
    return deals


def saas_contract_chain(rng: np.random.Generator, first: pd.DataFrame) -> pd.DataFrame:
    """Follow every customer's first contract through renewals, until churn or the data end.

    Works one renewal round at a time over all customers at once (a customer has at most ~6
    contracts in the window), so the loop runs over rounds, not rows.
    """
    rounds = [first]
    current = first
    while True:
        ended = current[current["end_date"] < END]
        if ended.empty:
            break
        n = len(ended)
        is_pilot = ended["term_months"].to_numpy() == PILOT_MONTHS
        renew_p = np.where(
            is_pilot, PILOT_CONVERSION, ended["tier"].map(TIER_RENEWAL_RATE).to_numpy()
        )
        renews = rng.random(n) < renew_p
        nxt = ended[renews].copy()
        m = len(nxt)
        if m == 0:
            break
        start = nxt["end_date"] + pd.Timedelta(days=1)
        nxt["tier"] = renewal_tier(rng, nxt["tier"].to_numpy(), start)
        nxt["term_months"] = pick(rng, RENEWAL_TERMS, m).astype(int)
        nxt["seats"] = seat_factor(nxt["seats"].to_numpy() * rng.lognormal(0.04, 0.08, m))
        nxt["start_date"] = start
        nxt["end_date"] = add_months_minus_day(start, nxt["term_months"])
        values = contract_values(
            rng,
            nxt["tier"].to_numpy(),
            nxt["term_months"].to_numpy(),
            start,
            nxt["seats"].to_numpy(),
            np.zeros(m),
        )
        nxt[values.columns] = values.to_numpy()
        nxt["round"] = nxt["round"] + 1
        rounds.append(nxt)
        current = nxt
    return pd.concat(rounds, ignore_index=True)


def renewal_tier(rng: np.random.Generator, tier: np.ndarray, start: pd.Series) -> np.ndarray:
    """Upgrades and downgrades at renewal; in 2024H1 Enterprise renewals slip down to Pro."""
    level = pd.Series(tier).map({t: i for i, t in enumerate(TIERS)}).to_numpy()
    dip = ((start >= "2024-01-01") & (start < "2024-07-01")).to_numpy()
    after = (start >= "2024-07-01").to_numpy()
    up_p = np.select([dip, after], [0.03, 0.18], default=0.10)
    down_p = np.where(dip & (level == 2), 0.60, 0.05)
    u = rng.random(len(tier))
    move = np.where(u < up_p, 1, np.where(u > 1 - down_p, -1, 0))
    move = np.where(dip & (level == 1) & (move == 1), 0, move)  # nobody is sold up to Enterprise
    return np.array(TIERS, dtype=object)[np.clip(level + move, 0, len(TIERS) - 1)]


def make_cloudledger(rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    deals = make_saas_deals(rng)
    won = deals[deals["outcome"] == "won"].reset_index(drop=True)

    # customers: a base already under contract in 2021, plus one new customer per won deal
    nb = N_BASE_CUSTOMERS
    base_start = pd.Series(
        pd.Timestamp("2021-01-15") + pd.to_timedelta(rng.integers(0, 350, nb), unit="D")
    )
    base = pd.DataFrame(
        {
            "channel": pick(rng, {c: 1 for c in SAAS_CHANNELS if c != "cold_outbound"}, nb),
            "tier": draw_tiers(rng, pd.Series(pd.Timestamp("2021-06-30"), index=range(nb))),
            "term_months": pick(rng, {12: 0.7, 24: 0.2, 36: 0.1}, nb).astype(int),
            "seats": seat_factor(rng.lognormal(0.0, 0.25, nb)),
            "start_date": base_start,
            "deal_id": pd.NA,
        }
    )
    new = pd.DataFrame(
        {
            "channel": won["channel"],
            "tier": won["tier"],
            "term_months": won["term_months"],
            "seats": won["seats"],
            "start_date": won["planned_start"],
            "deal_id": won["deal_id"],
        }
    )
    first = pd.concat([base, new], ignore_index=True).sort_values("start_date", kind="stable")
    first = first.reset_index(drop=True)
    first["customer_id"] = [f"CL{i:04d}" for i in range(1, len(first) + 1)]
    first["end_date"] = add_months_minus_day(first["start_date"], first["term_months"])
    values = contract_values(
        rng,
        first["tier"].to_numpy(),
        first["term_months"].to_numpy(),
        first["start_date"],
        first["seats"].to_numpy(),
        np.ones(len(first)),
    )
    first = pd.concat([first, values], axis=1)
    first["round"] = 0
    deal_customer = first.dropna(subset=["deal_id"]).set_index("deal_id")["customer_id"]
    deals["customer_id"] = deals["deal_id"].map(deal_customer)
    # the CRM amount of a won deal is the signed contract's TCV
    deal_tcv = first.dropna(subset=["deal_id"]).set_index("deal_id")["total_value"]
    deals.loc[deals["outcome"] == "won", "amount"] = deals["deal_id"].map(deal_tcv)

    contracts = saas_contract_chain(rng, first)
    contracts = contracts.sort_values(["start_date", "customer_id"], kind="stable").reset_index(
        drop=True
    )
    contracts["contract_id"] = [f"C{i:05d}" for i in range(1, len(contracts) + 1)]
    last_round = contracts.groupby("customer_id")["round"].transform("max")
    is_last = contracts["round"] == last_round
    is_pilot = contracts["term_months"] == PILOT_MONTHS
    contracts["status"] = np.select(
        [~is_last, contracts["end_date"] >= END, is_pilot],
        ["renewed", "active", "expired"],
        default="churned",
    )
    billing = pd.Series("annual", index=contracts.index, dtype="object")
    for tier, options in BILLING_BY_TIER.items():
        mask = contracts["tier"] == tier
        billing[mask] = pick(rng, options, int(mask.sum()))
    contracts["billing_period"] = billing
    contracts["channel"] = contracts["channel"].where(contracts["round"] == 0, "renewal")

    # churn events: every customer whose last contract ended before the data end
    lost = contracts[is_last & (contracts["end_date"] < END)].copy()
    churn = pd.DataFrame(
        {
            "客戶編號": lost["customer_id"].to_numpy(),
            "流失日期": iso(lost["end_date"] + pd.Timedelta(days=1)).to_numpy(),
            "流失原因": pick(rng, SAAS_CHURN_REASONS, len(lost)),
            "流失MRR": np.round(lost["recurring_value"] / lost["term_months"])
            .astype(int)
            .to_numpy(),
        }
    ).sort_values(["流失日期", "客戶編號"], kind="stable")

    customers = make_saas_customers(rng, contracts)
    feedback = make_saas_feedback(rng, contracts, churn)
    spend = make_saas_spend(rng)
    quotas = make_saas_quotas(deals)
    tables = {
        "customers": customers,
        "contracts": contracts[
            [
                "contract_id",
                "customer_id",
                "start_date",
                "end_date",
                "total_value",
                "recurring_value",
                "one_time_fees",
                "billing_period",
                "tier",
                "status",
                "channel",
            ]
        ].assign(start_date=lambda d: iso(d["start_date"]), end_date=lambda d: iso(d["end_date"])),
        "deals": deals,
        "marketing_spend": spend,
        "churn_events": churn.reset_index(drop=True),
        "feedback": feedback,
        "quotas": quotas,
        "_contracts": contracts,  # term_months and real dates, for goal baselines (not written)
    }
    return tables


BRAND_HEAD = [
    "日",
    "青",
    "晨",
    "遠",
    "和",
    "沐",
    "嘉",
    "永",
    "星",
    "秋",
    "新",
    "宏",
    "立",
    "品",
    "雲",
    "海",
    "佳",
    "安",
    "信",
    "富",
]
BRAND_TAIL = [
    "昇",
    "田",
    "曦",
    "峰",
    "光",
    "森",
    "禾",
    "碩",
    "河",
    "實",
    "澄",
    "泰",
    "穎",
    "睿",
    "岫",
    "緣",
    "勳",
    "捷",
    "宇",
    "翔",
]
COMPANY_TRADE = {
    "餐飲": "餐飲",
    "零售": "商行",
    "製造": "精密工業",
    "顧問服務": "管理顧問",
    "貿易": "國際貿易",
    "科技": "資訊",
    "建築設計": "設計工程",
    "醫療診所": "醫事",
}
TW_REGIONS = {
    "台北市": 0.30,
    "新北市": 0.18,
    "桃園市": 0.10,
    "新竹市": 0.07,
    "台中市": 0.15,
    "台南市": 0.08,
    "高雄市": 0.12,
}


def make_saas_customers(rng: np.random.Generator, contracts: pd.DataFrame) -> pd.DataFrame:
    first = contracts.sort_values("start_date", kind="stable").drop_duplicates("customer_id")
    first = first.sort_values("customer_id").reset_index(drop=True)
    n = len(first)
    segment = pick(rng, {s: 1 for s in COMPANY_TRADE}, n)
    # distinct two-character brand per customer, e.g. 晨峰 + 管理顧問 + 有限公司 (all fictional)
    brand_idx = rng.choice(len(BRAND_HEAD) * len(BRAND_TAIL), size=n, replace=False)
    head = np.array(BRAND_HEAD, dtype=object)[brand_idx // len(BRAND_TAIL)]
    tail = np.array(BRAND_TAIL, dtype=object)[brand_idx % len(BRAND_TAIL)]
    trade = pd.Series(segment).map(COMPANY_TRADE).to_numpy(dtype=object)
    name = head + tail + trade + "有限公司"
    return pd.DataFrame(
        {
            "customer_id": first["customer_id"],
            "name": name,
            "signup_date": iso(first["start_date"]),
            "segment": segment,
            "channel": first["channel"],
            "region": pick(rng, TW_REGIONS, n),
        }
    )


SUPPORT_TOPICS = {
    "帳務設定": 0.25,
    "電子發票": 0.22,
    "報表": 0.18,
    "系統錯誤": 0.15,
    "權限管理": 0.10,
    "教育訓練": 0.10,
}
SUPPORT_CHANNELS = {"email": 0.40, "phone": 0.25, "chat": 0.20, "line": 0.15}
TICKETS_PER_ACTIVE_MONTH = 0.55
CSAT_RESPONSE_RATE = 0.6  # share of tickets whose satisfaction survey was answered


def make_saas_feedback(
    rng: np.random.Generator, contracts: pd.DataFrame, churn: pd.DataFrame
) -> pd.DataFrame:
    """Support tickets of active customers: first-response hours and (sometimes) a CSAT score."""
    mid_month = (MONTHS + pd.Timedelta(days=14)).to_numpy()
    covers = (contracts["start_date"].to_numpy()[:, None] <= mid_month) & (
        contracts["end_date"].to_numpy()[:, None] >= mid_month
    )
    active = (
        pd.DataFrame(covers, columns=range(len(MONTHS)))
        .groupby(contracts["customer_id"].to_numpy())
        .any()
    )
    cust_idx, month_idx = np.nonzero(active.to_numpy())
    n_tickets = rng.poisson(TICKETS_PER_ACTIVE_MONTH, len(cust_idx))
    cust = active.index.to_numpy()[cust_idx].repeat(n_tickets)
    date = random_dates_in_months(rng, MONTHS[month_idx.repeat(n_tickets)])
    n = len(cust)
    hours = np.round(rng.lognormal(np.log(5.0), 0.85, n), 1)
    # unhappy customers who later left over service get slower answers and lower scores
    bad_service = np.isin(
        cust, churn.loc[churn["流失原因"] == "客服品質不佳", "客戶編號"].to_numpy()
    )
    hours = np.where(bad_service, np.round(hours * 2.5, 1), hours)
    score = np.clip(np.round(4.55 - 0.035 * hours + rng.normal(0, 0.65, n)), 1, 5)
    csat = pd.Series(score).where(rng.random(n) < CSAT_RESPONSE_RATE).astype("Int64")
    fb = (
        pd.DataFrame(
            {
                "date": date,
                "customer_id": cust,
                "csat": csat,
                "response_hours": hours,
                "channel": pick(rng, SUPPORT_CHANNELS, n),
                "topic": pick(rng, SUPPORT_TOPICS, n),
            }
        )
        .sort_values(["date", "customer_id"], kind="stable")
        .reset_index(drop=True)
    )
    fb["date"] = iso(fb["date"])
    return fb


SAAS_MONTHLY_SPEND = {
    "website": 180_000,
    "referral": 15_000,
    "events": 70_000,
    "partners": 60_000,
    "cold_outbound": 120_000,
}
TRADE_SHOW_MONTHS = {3: 4.0, 10: 3.0}  # spring accounting expo, autumn SME fair
SALES_TEAM_COST_PER_REP = 75_000  # salaries + commissions, fully loaded CAC counts them


def make_saas_spend(rng: np.random.Generator) -> pd.DataFrame:
    growth = 1.12 ** years_since_start(MONTHS)
    rows = []
    for channel, base in SAAS_MONTHLY_SPEND.items():
        factor = growth * rng.normal(1.0, 0.08, len(MONTHS))
        if channel == "events":
            factor = factor * MONTHS.month.map(TRADE_SHOW_MONTHS).fillna(1.0).to_numpy()
        rows.append(
            pd.DataFrame(
                {
                    "period": MONTHS,
                    "channel": channel,
                    "spend": np.round(base * factor, -2).astype(int),
                    "category": "paid",
                }
            )
        )
    reps = np.where(MONTHS < LATE_HIRE_START, len(SALES_REPS) - 1, len(SALES_REPS))
    rows.append(
        pd.DataFrame(
            {
                "period": MONTHS,
                "channel": "sales_team",
                "spend": reps * SALES_TEAM_COST_PER_REP,
                "category": "other",
            }
        )
    )
    spend = pd.concat(rows, ignore_index=True).sort_values(["period", "channel"], kind="stable")
    spend["period"] = iso(spend["period"])
    return spend.reset_index(drop=True)


QUOTA_STRETCH = 1.1  # quotas sit 10 % above the average quarterly booking per rep
QUOTA_GROWTH_PER_YEAR = 1.15


def make_saas_quotas(deals: pd.DataFrame) -> pd.DataFrame:
    """Quarterly quota per rep: 10 % above the 3-year average booking, raised 15 % a year."""
    won = deals[deals["outcome"] == "won"]
    average = won.groupby([won["owner"], quarter_label(won["close_date"])])["amount"].sum().mean()
    quarters = [f"{y}Q{q}" for y in (2022, 2023, 2024) for q in (1, 2, 3, 4)]
    grid = pd.MultiIndex.from_product([SALES_REPS, quarters], names=["業務", "期間"]).to_frame(
        index=False
    )
    grid = grid[~((grid["業務"] == LATE_HIRE) & (grid["期間"] < "2023"))]
    year_factor = QUOTA_GROWTH_PER_YEAR ** (grid["期間"].str[:4].astype(int) - 2023)
    grid["業績目標"] = (average * QUOTA_STRETCH * year_factor).round(-4).astype(int)
    return grid.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# 2. Mountain Mist Tea (山嵐茶行): tea e-commerce with one physical shop
# --------------------------------------------------------------------------------------------
N_SHOP_CUSTOMERS = 4000
# BG/NBD-shaped buying: while "alive" a customer buys at rate lambda ~ Gamma(r, scale) per day,
# and after each purchase drops out for good with probability p ~ Beta(a, b).
PURCHASE_RATE_SHAPE, PURCHASE_RATE_MEAN_PER_YEAR = 0.9, 2.6
DROPOUT_BETA_A, DROPOUT_BETA_B = 2.0, 6.0
MAX_REPEATS = 60
GIFT_SEASONS = ["2022-02-01", "2022-09-10", "2023-01-22", "2023-09-29", "2024-02-10", "2024-09-17"]
GIFT_SEASON_LEAD_DAYS, GIFT_SEASON_BOOST = 21, 2.5  # 3 weeks before Lunar New Year / Mid-Autumn
DOUBLE_ELEVEN_BOOST = 4.0
SHOP_CHANNELS = {"website": 0.35, "line": 0.15, "shopee": 0.30, "store": 0.20}
SAME_CHANNEL_P = 0.7  # repeat orders mostly go through the customer's first channel
TEA_PRODUCTS = pd.DataFrame(
    [  # name, unit price, unit cost (TWD), weight in the order mix
        ("阿里山高山烏龍茶 150g", 980, 420, 0.18),
        ("梨山烏龍茶 150g", 1600, 720, 0.08),
        ("東方美人茶 75g", 1200, 500, 0.10),
        ("日月潭紅玉紅茶 75g", 650, 260, 0.15),
        ("文山包種茶 150g", 720, 300, 0.10),
        ("凍頂烏龍茶 150g", 680, 290, 0.12),
        ("蜜香紅茶茶包 20入", 380, 140, 0.12),
        ("四季春冷泡茶包 30入", 450, 160, 0.10),
        ("茶具禮盒", 2400, 1150, 0.05),
    ],
    columns=["product", "price", "cost", "weight"],
)
QUANTITY = {1: 0.70, 2: 0.22, 3: 0.08}
DISCOUNT_RATES = {  # channel -> {discount rate: share of orders}
    "website": {0.0: 0.5, 0.05: 0.3, 0.10: 0.2},
    "line": {0.0: 0.3, 0.10: 0.5, 0.15: 0.2},
    "shopee": {0.0: 0.4, 0.05: 0.35, 0.12: 0.25},
    "store": {0.0: 0.6, 0.05: 0.4},
}
ORDER_ID_PREFIX = {"website": "W", "line": "L", "shopee": "S"}
SURNAMES = [
    "陳",
    "林",
    "黃",
    "張",
    "李",
    "王",
    "吳",
    "劉",
    "蔡",
    "楊",
    "許",
    "鄭",
    "謝",
    "郭",
    "洪",
]
GIVEN_LAST = [
    "明",
    "華",
    "玲",
    "婷",
    "豪",
    "宏",
    "君",
    "芳",
    "傑",
    "萱",
    "安",
    "瑜",
    "翔",
    "慧",
    "誠",
]


def shop_day_weights() -> np.ndarray:
    """Relative new-customer intensity per day: growth, gift seasons and the 11/11 sale."""
    weight = 1 + 0.25 * years_since_start(DAYS)
    for day in pd.to_datetime(GIFT_SEASONS):
        weight[(day - pd.Timedelta(days=GIFT_SEASON_LEAD_DAYS) <= DAYS) & (day > DAYS)] *= (
            GIFT_SEASON_BOOST
        )
    weight[(DAYS.month == 11) & (DAYS.day == 11)] *= DOUBLE_ELEVEN_BOOST
    return weight / weight.sum()


def make_shop(rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    n = N_SHOP_CUSTOMERS
    first_day = np.sort(rng.choice(len(DAYS), size=n, p=shop_day_weights()))
    customers = pd.DataFrame(
        {
            "customer_id": [f"M{i:05d}" for i in range(1, n + 1)],
            "first_date": DAYS[first_day],
            "channel": pick(rng, SHOP_CHANNELS, n),
        }
    )
    rate = rng.gamma(
        PURCHASE_RATE_SHAPE, PURCHASE_RATE_MEAN_PER_YEAR / 365 / PURCHASE_RATE_SHAPE, n
    )
    dropout = rng.beta(DROPOUT_BETA_A, DROPOUT_BETA_B, n)
    repeats = np.minimum(rng.geometric(dropout) - 1, MAX_REPEATS)

    # first purchase + exponential gaps, cumulated per customer (vectorised with a group cumsum)
    owner = np.arange(n).repeat(repeats)
    gaps = rng.exponential(1.0, len(owner)) / rate[owner]
    offset_days = pd.Series(gaps).groupby(owner).cumsum().to_numpy()
    purchases = pd.DataFrame(
        {
            "cust": np.concatenate([np.arange(n), owner]),
            "date": np.concatenate(
                [
                    customers["first_date"].to_numpy(),
                    customers["first_date"].to_numpy()[owner]
                    + pd.to_timedelta(np.floor(offset_days), unit="D").to_numpy(),
                ]
            ),
        }
    )
    purchases = purchases[purchases["date"] <= END]
    purchases = purchases.sort_values(["date", "cust"], kind="stable").reset_index(drop=True)
    m = len(purchases)

    home = customers["channel"].to_numpy()[purchases["cust"].to_numpy()]
    other = pick(rng, SHOP_CHANNELS, m)
    channel = np.where(rng.random(m) < SAME_CHANNEL_P, home, other)
    product_idx = rng.choice(len(TEA_PRODUCTS), size=m, p=TEA_PRODUCTS["weight"].to_numpy())
    qty = pick(rng, QUANTITY, m).astype(int)
    amount = TEA_PRODUCTS["price"].to_numpy()[product_idx] * qty
    rate_drawn = np.zeros(m)
    for ch, options in DISCOUNT_RATES.items():
        mask = channel == ch
        rate_drawn[mask] = pick(rng, options, int(mask.sum())).astype(float)
    orders = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy()[purchases["cust"].to_numpy()],
            "order_date": purchases["date"],
            "amount": amount,
            "discount": np.round(amount * rate_drawn).astype(int),
            "cost": TEA_PRODUCTS["cost"].to_numpy()[product_idx] * qty,
            "channel": channel,
            "product": TEA_PRODUCTS["product"].to_numpy()[product_idx],
            "quantity": qty,
        }
    )
    seq = orders.groupby([orders["order_date"], orders["channel"]]).cumcount() + 1
    yymmdd = orders["order_date"].dt.strftime("%y%m%d")
    orders["order_id"] = orders["channel"].map(ORDER_ID_PREFIX) + yymmdd + seq.map("{:03d}".format)
    store = orders["channel"] == "store"
    roc = (orders["order_date"].dt.year - ROC_YEAR_OFFSET).astype(str) + orders[
        "order_date"
    ].dt.strftime("%m%d")
    orders.loc[store, "order_id"] = "P" + roc[store] + seq[store].map("{:03d}".format)

    online = orders[~store].reset_index(drop=True)
    pos = orders[store].reset_index(drop=True)
    surname = np.array(SURNAMES, dtype=object)[rng.integers(0, len(SURNAMES), n)]
    given = np.array(GIVEN_LAST, dtype=object)[rng.integers(0, len(GIVEN_LAST), n)]
    return {
        "customers": pd.DataFrame(
            {
                "會員編號": customers["customer_id"],
                "姓名": surname + "○" + given,  # masked the way Taiwanese shops print member names
                "加入日期": slash_date(customers["first_date"]),
                "縣市": pick(rng, TW_REGIONS, n),
                "取得管道": customers["channel"],
            }
        ),
        "online_orders": online.assign(order_date=iso(online["order_date"]))[
            [
                "order_id",
                "customer_id",
                "order_date",
                "amount",
                "discount",
                "cost",
                "channel",
                "product",
                "quantity",
            ]
        ],
        "pos_export": pd.DataFrame(
            {
                "單號": pos["order_id"],
                "交易日期": roc_date(pos["order_date"]),
                "會員卡號": pos["customer_id"],
                "品名": pos["product"],
                "數量": pos["quantity"],
                "銷售金額": nt_dollars(pos["amount"]),
                "折扣金額": nt_dollars(pos["discount"]),
                "成本": nt_dollars(pos["cost"]),
                "通路": pos["channel"],
            }
        ),
        "marketing_spend": make_shop_spend(rng),
        "web_traffic": make_shop_traffic(rng, online[online["channel"] == "website"]),
        "_orders": orders,  # all orders in canonical form, for the goal baselines (not written)
    }


SHOP_MONTHLY_SPEND = {"website": 60_000, "line": 15_000, "shopee": 25_000, "store": 8_000}
SHOP_SEASON_SPEND = {1: 1.6, 2: 1.3, 9: 1.5}  # gift seasons
SHOPEE_DOUBLE_ELEVEN_SPEND = 2.0


def make_shop_spend(rng: np.random.Generator) -> pd.DataFrame:
    season = MONTHS.month.map(SHOP_SEASON_SPEND).fillna(1.0).to_numpy()
    rows = []
    for channel, base in SHOP_MONTHLY_SPEND.items():
        factor = season * (1.1 ** years_since_start(MONTHS)) * rng.normal(1.0, 0.1, len(MONTHS))
        if channel == "shopee":
            factor = factor * np.where(MONTHS.month == 11, SHOPEE_DOUBLE_ELEVEN_SPEND, 1.0)
        rows.append(
            pd.DataFrame(
                {
                    "月份": slash_date(pd.Series(MONTHS)),
                    "通路": channel,
                    "行銷費用": np.round(base * factor, -2).astype(int),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


GA_CHANNELS = pd.DataFrame(
    [  # channel group, share of sessions, engagement rate, new-user rate, share of purchases
        ("Organic Search", 0.35, 0.58, 0.70, 0.30),
        ("Paid Search", 0.20, 0.52, 0.75, 0.22),
        ("Direct", 0.18, 0.66, 0.40, 0.22),
        ("Organic Social", 0.15, 0.45, 0.65, 0.08),
        ("Email", 0.07, 0.72, 0.10, 0.14),
        ("Referral", 0.05, 0.60, 0.60, 0.04),
    ],
    columns=["channel", "session_share", "engaged_rate", "new_rate", "purchase_share"],
)
SHOP_BASE_SESSIONS = 320
SECONDS_PER_ENGAGED_SESSION = 95.0
VIEWS_PER_SESSION = 2.8


def make_shop_traffic(rng: np.random.Generator, web_orders: pd.DataFrame) -> pd.DataFrame:
    """GA4 daily report per channel group, zh-TW UI headers; purchases = the website orders."""
    grid = pd.MultiIndex.from_product([DAYS, GA_CHANNELS["channel"]], names=["date", "channel"])
    grid = grid.to_frame(index=False)
    ch = GA_CHANNELS.set_index("channel").loc[grid["channel"]].reset_index(drop=True)
    day_weight = np.repeat(shop_day_weights() * len(DAYS), len(GA_CHANNELS))
    expected = SHOP_BASE_SESSIONS * ch["session_share"].to_numpy() * np.sqrt(day_weight) * 1.4
    sessions = rng.poisson(expected * rng.lognormal(0, 0.1, len(grid)))

    buys = (
        web_orders.assign(
            channel=pick(
                rng,
                dict(zip(GA_CHANNELS["channel"], GA_CHANNELS["purchase_share"], strict=True)),
                len(web_orders),
            ),
            date=pd.to_datetime(web_orders["order_date"]),
            revenue=web_orders["amount"] - web_orders["discount"],
        )
        .groupby(["date", "channel"])
        .agg(key_events=("revenue", "size"), revenue=("revenue", "sum"))
    )
    grid = grid.merge(buys.reset_index(), on=["date", "channel"], how="left")
    key_events = grid["key_events"].fillna(0).astype(int).to_numpy()
    sessions = np.maximum(sessions, key_events)
    engaged = np.maximum(rng.binomial(sessions, ch["engaged_rate"].to_numpy()), key_events)
    users = np.round(sessions * rng.uniform(0.80, 0.90, len(grid))).astype(int)
    return pd.DataFrame(
        {
            "日期": iso(grid["date"]),
            "工作階段預設管道群組": grid["channel"],
            "工作階段": sessions,
            "互動工作階段": engaged,
            "使用者": users,
            "新使用者": rng.binomial(users, ch["new_rate"].to_numpy()),
            "使用者參與時間": np.round(
                engaged * rng.gamma(8.0, SECONDS_PER_ENGAGED_SESSION / 8.0, len(grid))
            ).astype(int),
            "重要事件": key_events,
            "瀏覽次數": np.round(sessions * rng.normal(VIEWS_PER_SESSION, 0.2, len(grid))).astype(
                int
            ),
            "電子商務收益": grid["revenue"].fillna(0).astype(int),
        }
    )


# --------------------------------------------------------------------------------------------
# 3. Mr. Panda's blog (貓熊先生的部落格): the source article's content-site example
# --------------------------------------------------------------------------------------------
BLOG_CHANNELS = pd.DataFrame(
    [  # channel group, session share, engagement rate, new-user rate, affiliate clicks per session
        ("Organic Search", 0.58, 0.58, 0.72, 0.012),
        ("Direct", 0.13, 0.62, 0.30, 0.010),
        ("Organic Social", 0.16, 0.45, 0.60, 0.008),
        ("Referral", 0.08, 0.66, 0.55, 0.015),
        ("Email", 0.05, 0.74, 0.05, 0.030),
    ],
    columns=["channel", "session_share", "engaged_rate", "new_rate", "click_rate"],
)
BLOG_BASE_SESSIONS, BLOG_GROWTH_PER_YEAR = 1200, 1.35
WEEKDAY_FACTOR = np.array([1.08, 1.08, 1.06, 1.04, 0.98, 0.85, 0.91])  # Monday..Sunday
BLOG_VIEWS_PER_SESSION, BLOG_SECONDS_PER_ENGAGED = 1.7, 85.0
ENGAGEMENT_GAIN_PER_YEAR = 0.015
# AdSense page RPM (TWD per 1,000 page views): yearly level x seasonality of advertiser demand
PAGE_RPM_BY_YEAR = {2022: 90.0, 2023: 98.0, 2024: 104.0}
RPM_QUARTER_FACTOR = {1: 0.85, 2: 0.95, 3: 1.00, 4: 1.12}
AD_LAYOUT_CHANGE, AD_LAYOUT_LIFT = pd.Timestamp("2024-10-01"), 1.04  # new ad placements in 2024Q4
AFFILIATE_CONVERSION, AFFILIATE_COMMISSION = 0.08, 175.0  # share of clicks that buy; TWD per sale
# the main affiliate network lowers its commission in 2024Q4, so the +15 % affiliate goal is missed
AFFILIATE_COMMISSION_CUT, AFFILIATE_CUT_FACTOR = pd.Timestamp("2024-10-01"), 0.92


def make_pandablog(rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    grid = pd.MultiIndex.from_product([DAYS, BLOG_CHANNELS["channel"]], names=["date", "channel"])
    grid = grid.to_frame(index=False)
    ch = BLOG_CHANNELS.set_index("channel").loc[grid["channel"]].reset_index(drop=True)
    n = len(grid)
    years = years_since_start(grid["date"])
    expected = (
        BLOG_BASE_SESSIONS
        * ch["session_share"].to_numpy()
        * BLOG_GROWTH_PER_YEAR**years
        * WEEKDAY_FACTOR[grid["date"].dt.day_of_week.to_numpy()]
    )
    sessions = rng.poisson(expected * rng.lognormal(0, 0.12, n))
    engaged = rng.binomial(
        sessions, np.clip(ch["engaged_rate"].to_numpy() + ENGAGEMENT_GAIN_PER_YEAR * years, 0, 1)
    )
    users = np.round(sessions * rng.uniform(0.78, 0.88, n)).astype(int)
    views = np.round(sessions * rng.normal(BLOG_VIEWS_PER_SESSION, 0.15, n)).astype(int)
    clicks = rng.binomial(sessions, ch["click_rate"].to_numpy())
    rpm = (
        grid["date"].dt.year.map(PAGE_RPM_BY_YEAR) * grid["date"].dt.quarter.map(RPM_QUARTER_FACTOR)
    ).to_numpy()
    rpm = rpm * np.where(grid["date"] >= AD_LAYOUT_CHANGE, AD_LAYOUT_LIFT, 1.0)
    sales = rng.binomial(clicks, AFFILIATE_CONVERSION)
    commission = AFFILIATE_COMMISSION * np.where(
        grid["date"] >= AFFILIATE_COMMISSION_CUT, AFFILIATE_CUT_FACTOR, 1.0
    )
    traffic = pd.DataFrame(
        {
            "date": iso(grid["date"]),
            "channel": grid["channel"],
            "sessions": sessions,
            "engaged_sessions": engaged,
            "users": users,
            "new_users": rng.binomial(users, ch["new_rate"].to_numpy()),
            "engagement_seconds": np.round(
                engaged * rng.gamma(6.0, BLOG_SECONDS_PER_ENGAGED / 6.0, n)
            ).astype(int),
            "key_events": clicks,
            "page_views": views,
            "ad_revenue": np.round(views * rpm / 1000 * rng.normal(1.0, 0.05, n), 2),
            "affiliate_revenue": np.round(sales * commission * rng.uniform(0.7, 1.3, n), 2),
        }
    )
    return {"web_traffic": traffic, "social": make_blog_social(rng)}


SOCIAL_PLATFORMS = pd.DataFrame(
    [  # platform, first day of data, followers then, followers on 2024-12-31, mentions per day
        ("facebook", "2022-01-01", 12_000, 17_500, 3.0),
        ("instagram", "2022-01-01", 4_800, 15_000, 2.0),
        ("youtube", "2022-01-01", 1_500, 9_000, 1.0),
        ("threads", "2023-07-06", 200, 4_500, 1.5),  # Threads launched in Taiwan in July 2023
    ],
    columns=["platform", "since", "start", "end", "mentions"],
)
VIRAL_DAYS_PER_PLATFORM, VIRAL_MENTION_BOOST = 5, 8.0
DAILY_UNFOLLOW_RATE = 1.5


def make_blog_social(rng: np.random.Generator) -> pd.DataFrame:
    frames = []
    for p in SOCIAL_PLATFORMS.itertuples(index=False):  # four platforms, not rows of data
        days = pd.date_range(p.since, END, freq="D")
        growth_shape = np.linspace(0.6, 1.4, len(days))  # audience growth accelerates
        expected_adds = (p.end - p.start) / len(days) * growth_shape + DAILY_UNFOLLOW_RATE
        net = rng.poisson(expected_adds) - rng.poisson(DAILY_UNFOLLOW_RATE, len(days))
        mentions = rng.poisson(p.mentions * (1 + years_since_start(days)), len(days)).astype(float)
        viral = rng.choice(len(days), VIRAL_DAYS_PER_PLATFORM, replace=False)
        mentions[viral] = np.round(mentions[viral] * VIRAL_MENTION_BOOST + 10)
        frames.append(
            pd.DataFrame(
                {
                    "日期": iso(pd.Series(days)),
                    "平台": p.platform,
                    "粉絲數": p.start + np.cumsum(net),
                    "提及次數": mentions.astype(int),
                }
            )
        )
    return (
        pd.concat(frames, ignore_index=True)
        .sort_values(["日期", "平台"], kind="stable")
        .reset_index(drop=True)
    )


# --------------------------------------------------------------------------------------------
# goal baselines: plain pandas versions of the catalog definitions (kpi-definitions.md §0)
# --------------------------------------------------------------------------------------------
def quarter_bounds(label: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """'2024Q3' -> [2024-07-01, 2024-10-01)."""
    start = pd.Period(label, freq="Q").start_time.normalize()
    return start, start + pd.DateOffset(months=3)


def in_quarter(dates: pd.Series, label: str) -> pd.Series:
    start, end = quarter_bounds(label)
    dates = pd.to_datetime(dates)
    return (dates >= start) & (dates < end)


def saas_kpis(
    c: pd.DataFrame, deals: pd.DataFrame, churn: pd.DataFrame, feedback: pd.DataFrame, quarter: str
) -> dict[str, float]:
    """acv, logo_churn_rate, win_rate and csat_average of CloudLedger for one quarter."""
    start, _ = quarter_bounds(quarter)
    started = c[in_quarter(c["start_date"], quarter)]
    years = np.maximum(started["term_months"] / MONTHS_PER_YEAR, 1)
    acv = ((started["total_value"] - started["one_time_fees"]) / years).mean()
    active_at_start = c.loc[
        (c["start_date"] <= start) & (c["end_date"] >= start), "customer_id"
    ].nunique()
    churned = churn.loc[in_quarter(churn["流失日期"], quarter), "客戶編號"].nunique()
    closed = deals[in_quarter(deals["close_date"], quarter)]
    won = (closed["outcome"] == "won").sum()
    return {
        "acv": float(acv),
        "logo_churn_rate": churned / active_at_start,
        "win_rate": won / len(closed),
        "csat_average": float(feedback.loc[in_quarter(feedback["date"], quarter), "csat"].mean()),
    }


def shop_kpis(orders: pd.DataFrame, quarter: str) -> dict[str, float]:
    """revenue (gross - discounts), aov, gross_margin_rate, new_customers_orders for one quarter."""
    q = orders[in_quarter(orders["order_date"], quarter)]
    net = (q["amount"] - q["discount"]).sum()
    first = orders.groupby("customer_id")["order_date"].min()
    return {
        "revenue": float(net),
        "aov": float(net / len(q)),
        "gross_margin_rate": float((net - q["cost"].sum()) / net),
        "new_customers_orders": float(in_quarter(first, quarter).sum()),
    }


def blog_kpis(traffic: pd.DataFrame, social: pd.DataFrame, quarter: str) -> dict[str, float]:
    """sessions, engagement_rate, ad/affiliate revenue (flows); followers on the last day."""
    t = traffic[in_quarter(traffic["date"], quarter)]
    _, end = quarter_bounds(quarter)
    last_day = (end - pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    return {
        "sessions": float(t["sessions"].sum()),
        "engagement_rate": float(t["engaged_sessions"].sum() / t["sessions"].sum()),
        "ad_revenue": float(t["ad_revenue"].sum()),
        "affiliate_revenue": float(t["affiliate_revenue"].sum()),
        "followers": float(social.loc[social["日期"] == last_day, "粉絲數"].sum()),
    }


def plain_number(x: float) -> int | float:
    """A YAML-friendly python number: 206000.0 -> 206000, 0.1234 stays a float."""
    x = float(x)
    return int(x) if x.is_integer() else x


def goal(
    goal_id: str,
    kpi: str,
    target: float,
    direction: str,
    baseline: float,
    baseline_period: str,
    owner: str,
    strategy: str,
    objective: tuple[str, str],
    period: str = "2024Q4",
    scope: str = "all",
) -> dict:
    return {
        "goal_id": goal_id,
        "kpi": kpi,
        "target": plain_number(target),
        "period": period,
        "direction": direction,
        "baseline": plain_number(baseline),
        "baseline_period": baseline_period,
        "owner": owner,
        "strategy": strategy,
        "objective": {"zh-TW": objective[0], "en": objective[1]},
        "scope": scope,
    }


def cloudledger_goals(t: dict[str, pd.DataFrame]) -> list[dict]:
    c, deals, churn, fb = t["_contracts"], t["deals"], t["churn_events"], t["feedback"]
    q2, q3 = saas_kpis(c, deals, churn, fb, "2024Q2"), saas_kpis(c, deals, churn, fb, "2024Q3")
    acv_2023 = np.mean([saas_kpis(c, deals, churn, fb, f"2023Q{i}")["acv"] for i in range(1, 5)])
    return [
        goal(
            "g1",
            "acv",
            round(acv_2023, -3),
            "higher",
            round(q2["acv"]),
            "2024Q2",
            "業務部 / Sales",
            "grow_account_value",
            (
                "重新推廣企業版高階功能，讓新簽合約的平均 ACV 回到 2023 年的水準",
                "Sell the Enterprise features again so that the average ACV of new contracts "
                "returns to its 2023 level",
            ),
        ),
        goal(
            "g2",
            "logo_churn_rate",
            round(q3["logo_churn_rate"] * 0.75, 3),
            "lower",
            round(q3["logo_churn_rate"], 4),
            "2024Q3",
            "客戶成功部 / Customer Success",
            "retain_customers",
            (
                "針對價格疑慮主動提供續約方案，將每季客戶流失率降低四分之一",
                "Address price concerns with renewal offers and cut the quarterly logo churn "
                "rate by a quarter",
            ),
        ),
        goal(
            "g3",
            "win_rate",
            round(q3["win_rate"] + 0.03, 2),
            "higher",
            round(q3["win_rate"], 4),
            "2024Q3",
            "業務部 / Sales",
            "sales_efficiency",
            (
                "把業務時間集中在高轉換管道，結案商機的贏單率提高 3 個百分點",
                "Spend sales time on the channels that convert and raise the win rate of closed "
                "deals by 3 points",
            ),
        ),
        goal(
            "g4",
            "csat_average",
            4.5,
            "higher",
            round(q3["csat_average"], 2),
            "2024Q3",
            "客服部 / Support",
            "customer_satisfaction",
            (
                "縮短首次回應時間，讓客服滿意度平均分數達到 4.5 分",
                "Answer tickets faster so that the average support satisfaction score reaches 4.5",
            ),
        ),
    ]


def shop_goals(t: dict[str, pd.DataFrame]) -> list[dict]:
    base = shop_kpis(t["_orders"], "2023Q4")
    return [
        goal(
            "g1",
            "revenue",
            round(base["revenue"] * 1.15, -4),
            "higher",
            round(base["revenue"]),
            "2023Q4",
            "老闆 / Owner",
            "grow_revenue",
            (
                "2024 年第四季（中秋後到年底）營收比去年同期成長 15%",
                "Grow 2024Q4 revenue (after Mid-Autumn to year end) 15 % over the same quarter "
                "last year",
            ),
        ),
        goal(
            "g2",
            "aov",
            round(base["aov"] * 1.05, -1),
            "higher",
            round(base["aov"], 1),
            "2023Q4",
            "電商部 / E-commerce",
            "grow_revenue",
            ("以禮盒組合提高平均客單價 5%", "Raise the average order value 5 % with gift bundles"),
        ),
        goal(
            "g3",
            "gross_margin_rate",
            round(base["gross_margin_rate"] + 0.02, 3),
            "higher",
            round(base["gross_margin_rate"], 4),
            "2023Q4",
            "老闆 / Owner",
            "improve_margin",
            (
                "減少折扣券的使用，毛利率提高 2 個百分點",
                "Use fewer discount coupons and lift gross margin by 2 points",
            ),
        ),
        goal(
            "g4",
            "new_customers_orders",
            round(base["new_customers_orders"] * 1.10),
            "higher",
            base["new_customers_orders"],
            "2023Q4",
            "電商部 / E-commerce",
            "acquire_customers",
            (
                "第四季首購客人數比去年同期多 10%",
                "Win 10 % more first-time buyers in Q4 than a year earlier",
            ),
        ),
    ]


def pandablog_goals(t: dict[str, pd.DataFrame]) -> list[dict]:
    """The article's SMART table: revenue +20 % / +15 % in three months, audience, traffic."""
    base = blog_kpis(t["web_traffic"], t["social"], "2024Q3")
    owner = "貓熊先生 / Mr. Panda"
    return [
        goal(
            "g1",
            "ad_revenue",
            round(base["ad_revenue"] * 1.20, -2),
            "higher",
            round(base["ad_revenue"]),
            "2024Q3",
            owner,
            "monetize_content",
            (
                "增加網站收入：三個月內廣告收入提升 20%",
                "Grow site income: ad revenue up 20 % within three months",
            ),
        ),
        goal(
            "g2",
            "affiliate_revenue",
            round(base["affiliate_revenue"] * 1.15, -2),
            "higher",
            round(base["affiliate_revenue"]),
            "2024Q3",
            owner,
            "monetize_content",
            (
                "增加網站收入：三個月內聯盟行銷收入提升 15%",
                "Grow site income: affiliate revenue up 15 % within three months",
            ),
        ),
        goal(
            "g3",
            "followers",
            round(base["followers"] * 1.10, -2),
            "higher",
            base["followers"],
            "2024Q3",
            owner,
            "grow_audience",
            (
                "提升品牌知名度：各社群平台粉絲總數增加 10%",
                "Build brand awareness: total followers across social platforms up 10 %",
            ),
            scope="facebook, instagram, youtube, threads",
        ),
        goal(
            "g4",
            "sessions",
            round(base["sessions"] * 1.15, -3),
            "higher",
            base["sessions"],
            "2024Q3",
            owner,
            "grow_audience",
            ("增加網站流量：工作階段數增加 15%", "Grow site traffic: sessions up 15 %"),
        ),
        goal(
            "g5",
            "engagement_rate",
            0.64,
            "higher",
            round(base["engagement_rate"], 4),
            "2024Q3",
            owner,
            "grow_audience",
            (
                "提高內容黏著度：互動工作階段比率達到 64%（即跳出率降到 36%）",
                "Make the content stickier: engagement rate of 64 % (bounce rate down to 36 %)",
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------
# writing files
# --------------------------------------------------------------------------------------------
def write_csv(df: pd.DataFrame, path: Path, encoding: str = "utf-8", newline: str = "\n") -> None:
    df.to_csv(path, index=False, encoding=encoding, lineterminator=newline)


DEAL_HEADERS = {  # canonical -> header of the CRM's zh-TW export
    "deal_id": "商機編號",
    "deal_name": "商機名稱",
    "created_date": "建立日期",
    "close_date": "結案日期",
    "stage": "階段",
    "outcome": "結果",
    "amount": "金額",
    "owner": "負責業務",
    "channel": "名單來源",
    "customer_id": "客戶編號",
    "lost_reason": "未成交原因",
}


def write_deals_xlsx(deals: pd.DataFrame, path: Path) -> None:
    """CRM export: sheet 商機, a title and an export-time line above the header on row 3."""
    export = deals.assign(
        deal_name=deals["tier"] + " 方案・" + deals["term_months"].astype(str) + " 個月",
        created_date=deals["created_date"].dt.date,
        close_date=deals["close_date"].dt.date,
        amount=deals["amount"].astype(int),
    )[list(DEAL_HEADERS)].rename(columns=DEAL_HEADERS)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl", date_format="yyyy/m/d") as writer:
        export.to_excel(writer, sheet_name="商機", startrow=2, index=False)
        sheet = writer.sheets["商機"]
        sheet["A1"] = "雲帳科技 CRM|商機清單"
        sheet["A2"] = f"匯出時間：2025/01/02 09:00（共 {len(export):,} 筆）"
    path.write_bytes(deterministic_xlsx(buffer.getvalue()))


def deterministic_xlsx(data: bytes) -> bytes:
    """Rewrite an xlsx zip with fixed entry timestamps and document dates (identical reruns)."""
    stamp = "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z".format(*EXCEL_TIMESTAMP)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*",
                    rb"\g<1>" + stamp.encode(),
                    content,
                )
            info = zipfile.ZipInfo(item.filename, date_time=EXCEL_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, content)
    return out.getvalue()


class _ClientYamlDumper(yaml.SafeDumper):
    """Short mappings/lists of scalars on one line ({file: x.csv}); the rest in block style."""

    FLOW_MAX_CHARS = 90

    def represent_mapping(self, tag, mapping, flow_style=None):
        items = mapping.items() if hasattr(mapping, "items") else mapping
        scalar = all(not isinstance(v, (dict, list)) for _, v in items)
        short = len(str(mapping)) <= self.FLOW_MAX_CHARS
        return super().represent_mapping(tag, mapping, flow_style=scalar and short)

    def represent_sequence(self, tag, sequence, flow_style=None):
        scalar = all(not isinstance(v, (dict, list)) for v in sequence)
        return super().represent_sequence(tag, sequence, flow_style=scalar)


def write_client_yml(path: Path, config: dict, comment: str) -> None:
    text = yaml.dump(
        config, Dumper=_ClientYamlDumper, allow_unicode=True, sort_keys=False, width=110
    )
    header = (
        f"# {comment}\n# Synthetic sample client, generated by scripts/make_sample_data.py; "
        "do not edit by hand.\n"
    )
    path.write_text(header + text, encoding="utf-8")


def build_cloudledger(out: Path) -> None:
    t = make_cloudledger(np.random.default_rng(SEEDS["cloudledger"]))
    out.mkdir(parents=True, exist_ok=True)
    write_csv(t["customers"], out / "customers.csv")
    write_csv(t["contracts"], out / "contracts.csv")
    write_deals_xlsx(t["deals"], out / "deals.xlsx")
    write_csv(t["marketing_spend"], out / "marketing_spend.csv")
    write_csv(t["churn_events"], out / "churn_events.csv")
    write_csv(t["feedback"], out / "feedback.csv")
    write_csv(t["quotas"], out / "quotas.csv")
    write_client_yml(
        out / "client.yml",
        {
            "name": {"zh-TW": "雲帳科技股份有限公司", "en": "CloudLedger Technology Co., Ltd."},
            "currency": "TWD",
            "language": "zh-TW",
            "business_model": "saas",
            "strategy": [
                "grow_account_value",
                "retain_customers",
                "sales_efficiency",
                "customer_satisfaction",
            ],
            "fiscal_year_start_month": 1,
            "funnel_stages": SAAS_STAGES,
            "tables": {
                "customers": {"file": "customers.csv"},
                "contracts": {"file": "contracts.csv"},
                "deals": {"file": "deals.xlsx", "sheet": "商機", "header_row": 3},
                "marketing_spend": {"file": "marketing_spend.csv"},
                "churn_events": {"file": "churn_events.csv"},
                "feedback": {"file": "feedback.csv"},
                "quotas": {"file": "quotas.csv"},
            },
            "goals": cloudledger_goals(t),
        },
        "CloudLedger (雲帳科技): B2B accounting SaaS, Basic / Pro / Enterprise plans.",
    )


def build_shop(out: Path) -> None:
    t = make_shop(np.random.default_rng(SEEDS["shop"]))
    out.mkdir(parents=True, exist_ok=True)
    write_csv(
        t["customers"], out / "customers.csv", encoding="utf-8-sig"
    )  # Excel "CSV UTF-8" adds a BOM
    write_csv(t["online_orders"], out / "online_orders.csv")
    write_csv(
        t["pos_export"], out / "pos_export.csv", encoding="cp950", newline="\r\n"
    )  # Big5 POS export
    write_csv(t["marketing_spend"], out / "marketing_spend.csv")
    write_csv(t["web_traffic"], out / "web_traffic.csv")
    write_client_yml(
        out / "client.yml",
        {
            "name": {"zh-TW": "山嵐茶行", "en": "Mountain Mist Tea"},
            "currency": "TWD",
            "language": "zh-TW",
            "business_model": "ecommerce",
            "strategy": ["grow_revenue", "improve_margin", "acquire_customers"],
            "fiscal_year_start_month": 1,
            "tables": {
                "customers": {"file": "customers.csv"},
                "orders": {
                    "files": [
                        {"file": "online_orders.csv"},
                        {
                            "file": "pos_export.csv",
                            "encoding": "auto",
                            "columns": {"會員卡號": "customer_id"},
                        },
                    ]
                },
                "marketing_spend": {"file": "marketing_spend.csv"},
                "web_traffic": {"file": "web_traffic.csv"},
            },
            "goals": shop_goals(t),
        },
        "Mountain Mist Tea (山嵐茶行): tea e-shop, LINE and Shopee stores, one shop with a POS.",
    )


def build_pandablog(out: Path) -> None:
    t = make_pandablog(np.random.default_rng(SEEDS["pandablog"]))
    out.mkdir(parents=True, exist_ok=True)
    write_csv(t["web_traffic"], out / "web_traffic.csv")
    write_csv(t["social"], out / "social.csv")
    write_client_yml(
        out / "client.yml",
        {
            "name": {"zh-TW": "貓熊先生的部落格", "en": "Mr. Panda's Blog"},
            "currency": "TWD",
            "language": "zh-TW",
            "business_model": "content",
            "strategy": ["monetize_content", "grow_audience"],
            "fiscal_year_start_month": 1,
            "tables": {
                "web_traffic": {"file": "web_traffic.csv"},
                "social": {"file": "social.csv"},
            },
            "goals": pandablog_goals(t),
        },
        "Mr. Panda's blog (貓熊先生): the content-site example of the source article.",
    )


BUILDERS = {"cloudledger": build_cloudledger, "shop": build_shop, "pandablog": build_pandablog}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="folder for the client folders"
    )
    args = parser.parse_args(argv)
    for slug, build in BUILDERS.items():
        build(args.out / slug)
        print(f"wrote {args.out / slug}")


if __name__ == "__main__":
    main()
