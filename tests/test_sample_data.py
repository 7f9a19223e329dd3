"""Sample clients in data/sample: reproducible, small, well-formed, telling their stories.

The files are read with plain pandas/openpyxl/yaml (not kpitools' loaders), so these tests check
the data themselves. Every expected number is recomputed here from the raw files.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "sample"
SCRIPT = REPO / "scripts" / "make_sample_data.py"
CLIENTS = ["cloudledger", "shop", "pandablog"]
MAX_TOTAL_BYTES = 5 * 1024 * 1024  # "a few MB in all"
DATA_START, DATA_END = pd.Timestamp("2022-01-01"), pd.Timestamp("2024-12-31")

GOAL_KPIS = {
    "saas": {
        "new_customers",
        "acv",
        "logo_churn_rate",
        "nrr",
        "win_rate",
        "cac_payback_months",
        "mrr",
        "csat_average",
    },
    "ecommerce": {
        "revenue",
        "aov",
        "repeat_purchase_rate",
        "gross_margin_rate",
        "new_customers_orders",
    },
    "content": {"sessions", "engagement_rate", "ad_revenue", "affiliate_revenue", "followers"},
}
GOAL_FIELDS = {
    "goal_id",
    "kpi",
    "target",
    "period",
    "direction",
    "baseline",
    "baseline_period",
    "owner",
    "strategy",
    "objective",
    "scope",
}


def config(client: str) -> dict:
    return yaml.safe_load((SAMPLES / client / "client.yml").read_text(encoding="utf-8"))


def table_files(cfg: dict) -> list[dict]:
    """Every file entry of client.yml's tables (a table is one file or a `files:` list)."""
    entries = []
    for spec in cfg["tables"].values():
        entries.extend(spec.get("files", [spec]))
    return entries


def goal_of(cfg: dict, kpi: str) -> dict:
    return next(g for g in cfg["goals"] if g["kpi"] == kpi)


def in_quarter(dates: pd.Series, label: str) -> pd.Series:
    p = pd.Period(label, freq="Q")
    dates = pd.to_datetime(dates)
    return (dates >= p.start_time) & (dates < (p + 1).start_time)


# ------------------------------------------------------------------ loaders of the raw files
@pytest.fixture(scope="module")
def contracts() -> pd.DataFrame:
    c = pd.read_csv(
        SAMPLES / "cloudledger" / "contracts.csv", parse_dates=["start_date", "end_date"]
    )
    # term in months = whole months from start_date to the day after end_date (end is inclusive)
    after_end = c["end_date"] + pd.Timedelta(days=1)
    months = (after_end.dt.year - c["start_date"].dt.year) * 12 + (
        after_end.dt.month - c["start_date"].dt.month
    )
    # ACV per contract = (TCV - one-time fees) / max(years, 1)  (kpi-definitions.md §1.4)
    return c.assign(
        term_months=months, acv=(c["total_value"] - c["one_time_fees"]) / np.maximum(months / 12, 1)
    )


@pytest.fixture(scope="module")
def deals() -> pd.DataFrame:
    return pd.read_excel(SAMPLES / "cloudledger" / "deals.xlsx", sheet_name="商機", header=2,
                         engine="openpyxl")


@pytest.fixture(scope="module")
def shop_orders() -> pd.DataFrame:
    online = pd.read_csv(SAMPLES / "shop" / "online_orders.csv", parse_dates=["order_date"])
    pos = pd.read_csv(SAMPLES / "shop" / "pos_export.csv", encoding="cp950", dtype=str)
    roc = pos["交易日期"].str.split("/", expand=True).astype(int)
    money = {
        col: pos[col].str.replace("NT$", "").str.replace(",", "").astype(int)
        for col in ["銷售金額", "折扣金額", "成本"]
    }
    store = pd.DataFrame(
        {
            "order_id": pos["單號"],
            "customer_id": pos["會員卡號"],
            "order_date": pd.to_datetime(dict(year=roc[0] + 1911, month=roc[1], day=roc[2])),
            "amount": money["銷售金額"],
            "discount": money["折扣金額"],
            "cost": money["成本"],
            "channel": pos["通路"],
            "product": pos["品名"],
            "quantity": pos["數量"].astype(int),
        }
    )
    return pd.concat([online, store], ignore_index=True)


# ------------------------------------------------------------------ reproducibility and size
def test_script_regenerates_every_file_byte_identically(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)], check=True, capture_output=True
    )
    committed = sorted(p.relative_to(SAMPLES) for p in SAMPLES.rglob("*") if p.is_file())
    regenerated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert regenerated == committed
    changed = [
        str(p) for p in committed if (SAMPLES / p).read_bytes() != (tmp_path / p).read_bytes()
    ]
    assert changed == [], "run `python scripts/make_sample_data.py` and commit the result"


def test_samples_are_small_but_large_enough(contracts, shop_orders) -> None:
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < MAX_TOTAL_BYTES
    assert len(contracts) >= 300  # "hundreds of contracts"
    assert len(shop_orders) >= 5000  # "thousands of orders"


# ------------------------------------------------------------------ client.yml
@pytest.mark.parametrize("client", CLIENTS)
def test_client_yml_is_complete_and_its_files_exist(client: str) -> None:
    cfg = config(client)
    strategies = yaml.safe_load(
        (REPO / "kpitools" / "catalog" / "strategies.yaml").read_text("utf-8")
    )
    assert set(cfg["name"]) == {"zh-TW", "en"}
    assert cfg["currency"] == "TWD"
    assert cfg["fiscal_year_start_month"] == 1
    assert cfg["language"] in {"zh-TW", "en"}
    assert set(cfg["strategy"]) <= set(strategies)
    for entry in table_files(cfg):
        assert (SAMPLES / client / entry["file"]).is_file(), entry["file"]
    assert 3 <= len(cfg["goals"]) <= 5
    for g in cfg["goals"]:
        assert set(g) == GOAL_FIELDS
        assert g["kpi"] in GOAL_KPIS[cfg["business_model"]]
        assert g["strategy"] in strategies
        assert g["direction"] in {"higher", "lower"}
        assert set(g["objective"]) == {"zh-TW", "en"}
        assert re.fullmatch(r"20\d\dQ[1-4]", g["period"])
        assert re.fullmatch(r"20\d\dQ[1-4]", g["baseline_period"])
        # a goal asks for an improvement over its baseline
        assert (g["target"] > g["baseline"]) == (g["direction"] == "higher")


def test_headers_are_canonical_or_known_aliases() -> None:
    """Every header is a canonical column, a tables.yaml alias, mapped in client.yml, or a
    column the loaders may ignore (商機名稱, the CRM's deal title)."""
    schema = yaml.safe_load((REPO / "kpitools" / "schemas" / "tables.yaml").read_text("utf-8"))
    ignorable = {"商機名稱"}
    for client in CLIENTS:
        cfg = config(client)
        for table, spec in cfg["tables"].items():
            cols = schema[table]["columns"]
            known = set(cols) | {a for c in cols.values() for a in c.get("aliases", [])}
            for entry in spec.get("files", [spec]):
                path = SAMPLES / client / entry["file"]
                if path.suffix == ".xlsx":
                    header = pd.read_excel(
                        path, sheet_name=entry["sheet"], header=entry["header_row"] - 1, nrows=0,
                        engine="openpyxl",
                    ).columns
                else:
                    encoding = "cp950" if entry.get("encoding") == "auto" else "utf-8-sig"
                    header = pd.read_csv(path, encoding=encoding, nrows=0).columns
                unknown = set(header) - known - set(entry.get("columns", {})) - ignorable
                assert unknown == set(), f"{client}/{entry['file']}"


def test_crm_export_has_title_rows_above_the_header() -> None:
    sheet = openpyxl.load_workbook(SAMPLES / "cloudledger" / "deals.xlsx", read_only=True)["商機"]
    rows = list(sheet.iter_rows(min_row=1, max_row=3, values_only=True))
    assert rows[0][0].startswith("雲帳科技") and rows[0][1] is None  # title row
    assert rows[2][:3] == ("商機編號", "商機名稱", "建立日期")  # header on row 3


# ------------------------------------------------------------------ CloudLedger stories
def test_enterprise_share_dips_in_2024h1_and_recovers(contracts) -> None:
    start = contracts["start_date"]
    is_ent = contracts["tier"] == "Enterprise"
    share_2023 = is_ent[start.dt.year == 2023].mean()
    share_h1 = is_ent[(start >= "2024-01-01") & (start < "2024-07-01")].mean()
    share_h2 = is_ent[(start >= "2024-07-01") & (start <= DATA_END)].mean()
    # generated with ~25 % Enterprise in 2023, ~3 % of new logos + downgrades in 2024H1, ~32 % after
    assert share_h1 < 0.6 * share_2023
    assert share_h2 >= share_2023
    assert share_h2 > 2 * share_h1


def test_average_acv_follows_the_enterprise_share(contracts) -> None:
    quarter = contracts["start_date"].dt.to_period("Q").astype(str)
    acv = contracts.groupby(quarter)["acv"].mean()
    acv_2023 = contracts.loc[contracts["start_date"].dt.year == 2023, "acv"].mean()
    assert acv["2024Q1"] < 0.8 * acv_2023 and acv["2024Q2"] < 0.8 * acv_2023
    assert min(acv["2024Q3"], acv["2024Q4"]) > 1.3 * max(acv["2024Q1"], acv["2024Q2"])


def test_acv_goal_baseline_matches_the_data(contracts) -> None:
    goal = goal_of(config("cloudledger"), "acv")
    assert goal["baseline_period"] == "2024Q2"
    q2 = contracts.loc[in_quarter(contracts["start_date"], "2024Q2"), "acv"].mean()
    assert goal["baseline"] == pytest.approx(q2, abs=1)


def test_one_channel_converts_far_worse(deals) -> None:
    won_per_created = (deals["結果"] == "won").groupby(deals["名單來源"]).mean().sort_values()
    assert set(won_per_created.index) == {
        "website",
        "referral",
        "events",
        "partners",
        "cold_outbound",
    }
    assert won_per_created.index[0] == "cold_outbound"
    assert won_per_created.iloc[0] < 0.5 * won_per_created.iloc[1]


def test_deals_follow_the_funnel(deals) -> None:
    stages = config("cloudledger")["funnel_stages"]
    assert set(deals["階段"]) <= set(stages)
    assert set(deals["結果"]) == {"won", "lost", "open"}
    assert (deals.loc[deals["結果"] == "won", "階段"] == "won").all()
    closed = deals["結果"] != "open"
    assert (
        deals.loc[closed, "結案日期"].notna().all() and deals.loc[~closed, "結案日期"].isna().all()
    )
    assert (deals.loc[closed, "結案日期"] >= deals.loc[closed, "建立日期"]).all()
    assert deals["商機編號"].is_unique


def test_won_deals_become_customers_with_contracts(deals, contracts) -> None:
    won = deals[deals["結果"] == "won"]
    assert won["客戶編號"].notna().all() and won["客戶編號"].is_unique
    assert set(won["客戶編號"]) <= set(contracts["customer_id"])
    customers = pd.read_csv(SAMPLES / "cloudledger" / "customers.csv")
    assert set(contracts["customer_id"]) == set(customers["customer_id"])


def test_contracts_are_consistent(contracts) -> None:
    assert contracts["contract_id"].is_unique
    assert (contracts["end_date"] >= contracts["start_date"]).all()
    assert set(contracts["term_months"]) == {6, 12, 24, 36}  # pilots and 1-3 year terms
    assert set(contracts["tier"]) == {"Basic", "Pro", "Enterprise"}
    assert (
        contracts["total_value"] == contracts["recurring_value"] + contracts["one_time_fees"]
    ).all()
    assert (contracts["one_time_fees"] > 0).any()
    # renewals: customers with several contracts, some of them changing tier
    per_customer = contracts.groupby("customer_id")["tier"]
    assert (per_customer.size() > 1).mean() > 0.3
    assert (per_customer.nunique() > 1).sum() >= 10
    assert set(contracts["status"]) <= {"active", "churned", "expired", "renewed", "cancelled"}


def test_churn_concentrates_on_one_reason() -> None:
    churn = pd.read_csv(SAMPLES / "cloudledger" / "churn_events.csv")
    shares = churn["流失原因"].value_counts(normalize=True)
    assert shares.index[0] == "價格太高"
    assert shares.iloc[0] > 0.4
    assert churn["客戶編號"].is_unique  # a customer leaves once


def test_quotas_and_feedback_are_plausible() -> None:
    quotas = pd.read_csv(SAMPLES / "cloudledger" / "quotas.csv")
    assert quotas.groupby(["業務", "期間"]).size().max() == 1
    assert (quotas["業績目標"] > 0).all()
    feedback = pd.read_csv(SAMPLES / "cloudledger" / "feedback.csv")
    assert feedback["csat"].dropna().between(1, 5).all()
    assert 0.3 < feedback["csat"].isna().mean() < 0.5  # about 60 % answer the survey
    assert (feedback["response_hours"] >= 0).all()


# ------------------------------------------------------------------ Mountain Mist Tea
def test_pos_export_looks_like_a_taiwanese_pos() -> None:
    raw = (SAMPLES / "shop" / "pos_export.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # really Big5, not UTF-8
    pos = pd.read_csv(io.StringIO(raw.decode("cp950")), dtype=str)
    assert pos["交易日期"].str.fullmatch(r"1(11|12|13)/\d{2}/\d{2}").all()  # ROC years 111-113
    assert pos["銷售金額"].str.fullmatch(r"NT\$\d{1,3}(,\d{3})*").all()
    assert (pos["通路"] == "store").all()


def test_shop_orders_are_consistent(shop_orders) -> None:
    assert shop_orders["order_id"].is_unique
    assert shop_orders["order_date"].between(DATA_START, DATA_END).all()
    assert set(shop_orders["channel"]) == {"website", "line", "shopee", "store"}
    assert (shop_orders["discount"] <= shop_orders["amount"]).all()
    assert (shop_orders["cost"] < shop_orders["amount"]).all()
    customers = pd.read_csv(SAMPLES / "shop" / "customers.csv", encoding="utf-8-sig")
    assert set(shop_orders["customer_id"]) <= set(customers["會員編號"])


def test_shop_customers_buy_repeatedly_at_different_rates(shop_orders) -> None:
    per_customer = shop_orders.groupby("customer_id").size()
    assert 0.3 < (per_customer > 1).mean() < 0.8  # repeat buyers, and one-time buyers
    assert per_customer.max() >= 10  # heterogeneous purchase rates
    # dropout: many early customers have stopped buying well before the data end
    last = shop_orders.groupby("customer_id")["order_date"].max()
    first = shop_orders.groupby("customer_id")["order_date"].min()
    early = first < "2022-07-01"
    assert (last[early] < "2024-01-01").mean() > 0.3


def test_shop_goal_baselines_match_the_data(shop_orders) -> None:
    cfg = config("shop")
    q = shop_orders[in_quarter(shop_orders["order_date"], "2023Q4")]
    net = (q["amount"] - q["discount"]).sum()
    assert goal_of(cfg, "revenue")["baseline"] == pytest.approx(net, abs=1)
    assert goal_of(cfg, "aov")["baseline"] == pytest.approx(net / len(q), abs=0.1)


def test_shop_web_traffic_purchases_are_the_website_orders(shop_orders) -> None:
    traffic = pd.read_csv(SAMPLES / "shop" / "web_traffic.csv")
    web = shop_orders[shop_orders["channel"] == "website"]
    assert traffic["重要事件"].sum() == len(web)
    assert traffic["電子商務收益"].sum() == (web["amount"] - web["discount"]).sum()
    assert (traffic["互動工作階段"] <= traffic["工作階段"]).all()
    assert (
        len(traffic) == 1096 * traffic["工作階段預設管道群組"].nunique()
    )  # every day of 2022-2024


# ------------------------------------------------------------------ Mr. Panda's blog
@pytest.fixture(scope="module")
def blog() -> tuple[pd.DataFrame, pd.DataFrame]:
    traffic = pd.read_csv(SAMPLES / "pandablog" / "web_traffic.csv", parse_dates=["date"])
    social = pd.read_csv(SAMPLES / "pandablog" / "social.csv", parse_dates=["日期"])
    return traffic, social


def test_blog_goals_mirror_the_article(blog) -> None:
    traffic, social = blog
    cfg = config("pandablog")
    q3 = traffic[in_quarter(traffic["date"], "2024Q3")]
    q4 = traffic[in_quarter(traffic["date"], "2024Q4")]
    ad, affiliate = goal_of(cfg, "ad_revenue"), goal_of(cfg, "affiliate_revenue")
    # the article: ad revenue +20 %, affiliate revenue +15 % within three months
    assert ad["baseline"] == pytest.approx(q3["ad_revenue"].sum(), abs=1)
    assert ad["target"] == pytest.approx(1.20 * ad["baseline"], rel=0.01)
    assert affiliate["baseline"] == pytest.approx(q3["affiliate_revenue"].sum(), abs=1)
    assert affiliate["target"] == pytest.approx(1.15 * affiliate["baseline"], rel=0.01)
    # the story: ad revenue beats its goal, affiliate revenue misses it
    assert q4["ad_revenue"].sum() >= ad["target"]
    assert q4["affiliate_revenue"].sum() < affiliate["target"]
    followers = social.loc[social["日期"] == "2024-09-30", "粉絲數"].sum()
    assert goal_of(cfg, "followers")["baseline"] == followers


def test_blog_traffic_is_ga4_shaped(blog) -> None:
    traffic, social = blog
    assert set(traffic["channel"]) == {
        "Organic Search",
        "Direct",
        "Organic Social",
        "Referral",
        "Email",
    }
    assert (traffic["engaged_sessions"] <= traffic["sessions"]).all()
    assert (traffic["new_users"] <= traffic["users"]).all()
    yearly = traffic.groupby(traffic["date"].dt.year)["sessions"].sum()
    assert yearly.is_monotonic_increasing
    assert set(social["平台"]) == {"facebook", "instagram", "youtube", "threads"}
    assert social.loc[social["平台"] == "threads", "日期"].min() == pd.Timestamp("2023-07-06")


# ------------------------------------------------------------------ through kpitools' own loader
@pytest.fixture(scope="module")
def loaded_clients() -> dict:
    """Each sample client read once by kpitools.load_client (raises on any data error)."""
    from kpitools.io import load_client

    return {client: load_client(SAMPLES / client) for client in CLIENTS}


@pytest.mark.parametrize("client", CLIENTS)
def test_load_client_reads_every_sample_without_problems(client: str, loaded_clients) -> None:
    loaded = loaded_clients[client]
    assert loaded.warnings == {}
    cfg = config(client)
    assert set(loaded.tables) == set(cfg["tables"])
    assert loaded.business_model == cfg["business_model"]
    assert len(loaded.goals) == len(cfg["goals"])
    # every row of every file arrives (row counts read independently)
    for table, spec in cfg["tables"].items():
        rows = 0
        for entry in spec.get("files", [spec]):
            path = SAMPLES / client / entry["file"]
            if path.suffix == ".xlsx":
                sheet = openpyxl.load_workbook(path, read_only=True)[entry["sheet"]]
                rows += sheet.max_row - entry["header_row"]
            else:
                encoding = "cp950" if entry.get("encoding") == "auto" else "utf-8-sig"
                rows += len(pd.read_csv(path, encoding=encoding))
        assert len(loaded[table]) == rows, table


@pytest.mark.parametrize("client", CLIENTS)
def test_goal_baselines_agree_with_the_kpi_catalog(client: str, loaded_clients) -> None:
    """The script computes baselines with plain pandas; the catalog's KPI functions agree
    (up to the rounding written into client.yml)."""
    from kpitools.catalog import compute_kpi

    loaded = loaded_clients[client]
    for g in loaded.goals:
        value = compute_kpi(g["kpi"], loaded, period=g["baseline_period"])
        assert value == pytest.approx(g["baseline"], rel=0.005), g["kpi"]
