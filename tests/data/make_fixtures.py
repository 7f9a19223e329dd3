"""Write the small loader fixtures under tests/data/.

Run: .venv/bin/python tests/data/make_fixtures.py

The outputs are committed; this script documents exactly what each file contains and can
recreate them. Every value is hand-picked so the tests can state the expected results.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd

HERE = Path(__file__).resolve().parent


def write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


def good_files() -> None:
    good = HERE / "good"
    # A local POS export: Big5, ROC dates, NT$ amounts with thousands separators.
    write_text(
        good / "pos_big5.csv",
        "單號,交易日期,會員編號,品名,數量,銷售金額,折扣金額\r\n"
        'P001,113/01/05,M01,東方美人茶,2,"NT$2,400",NT$0\r\n'
        'P002,113/01/06,M02,凍頂烏龍茶,1,"NT$1,200",NT$100\r\n'
        'P003,民國113年2月1日,M01,茶具禮盒,1,"NT$4,800",\r\n',
        encoding="big5",
    )
    # The same table saved by Excel as "CSV UTF-8": a BOM in front of the first header.
    write_text(
        good / "orders_utf8_bom.csv",
        '訂單編號,客戶編號,訂單日期,金額\nA1,C1,2024/1/5,"1,234元"\nA2,C2,2024/1/6,"NT$1,234.50"\n',
        encoding="utf-8-sig",
    )
    write_text(
        good / "orders.tsv",
        "order_id\tcustomer_id\torder_date\tamount\tdiscount\nA1\tC1\t2024-01-05\t１２３４\t１２０\n",
    )
    # Deals in an Excel workbook: a title row, a blank row, the header on row 3, sheet 商機.
    book = openpyxl.Workbook()
    first = book.active
    first.title = "說明"
    first["A1"] = "這張工作表不是資料"
    sheet = book.create_sheet("商機")
    sheet["A1"] = "雲帳科技 商機報表 2024"
    sheet.append([])
    sheet.append(["商機編號", "建立日期", "結案日期", "階段", "結果", "金額", "負責業務"])
    sheet.append(["D1", "2024-01-05", "2024-02-01", "won", "成交", 120000, "王小明"])
    sheet.append(["D2", "113/01/10", None, "demo", "進行中", "NT$80,000", "陳美玲"])
    sheet.append(["D3", 45301, 45350, "proposal", "Closed Lost", 50000, "王小明"])
    good.mkdir(parents=True, exist_ok=True)
    book.save(good / "deals_header_row3.xlsx")
    # Parquet with typed columns.
    pd.DataFrame(
        {
            "contract_id": ["K1", "K2"],
            "customer_id": ["C1", "C2"],
            "start_date": pd.to_datetime(["2024-01-01", "2024-03-01"]),
            "end_date": pd.to_datetime(["2024-12-31", "2025-02-28"]),
            "total_value": [120000.0, 60000.0],
        }
    ).to_parquet(good / "contracts.parquet", index=False)


def preset_files() -> None:
    presets = HERE / "presets"
    # Shopify: one row per line item; order fields only on each order's first row.
    write_text(
        presets / "shopify_orders.csv",
        "Name,Email,Financial Status,Created at,Subtotal,Discount Amount,Total,"
        "Lineitem quantity,Lineitem name,Lineitem price,Source\n"
        "#1001,amy@example.tw,paid,2024-01-05 10:23:45 +0800,1500.00,100.00,1400.00,"
        "2,東方美人茶,600.00,web\n"
        "#1001,,,,,,,1,茶杯,300.00,\n"
        "#1002,ben@example.tw,paid,2024-01-05 23:30:00 +0800,480.00,0.00,480.00,"
        "1,凍頂烏龍茶,480.00,pos\n"
        "#1003,amy@example.tw,paid,2024-01-05 17:10:00 -0800,900.00,0.00,900.00,"
        "3,包種茶,300.00,web\n",
    )
    write_text(
        presets / "hubspot_deals.csv",
        "Record ID,Deal Name,Pipeline,Deal Stage,Amount,Close Date,Create Date,Deal owner,"
        "Original Traffic Source\n"
        "9001,ACME renewal,Sales Pipeline,Closed won,120000,2024-02-01 10:00,2024-01-05 09:00,"
        "Amy Wang,Organic Search\n"
        "9002,Beta new,Sales Pipeline,Closed lost,80000,2024-02-10 10:00,2024-01-06 09:00,"
        "Ben Chen,Paid Search\n"
        "9003,Gamma,Sales Pipeline,Contract sent,50000,,2024-01-07 09:00,Amy Wang,Referrals\n",
    )
    write_text(
        presets / "salesforce_opportunities.csv",
        '"Opportunity ID","Opportunity Name","Account Name","Opportunity Owner","Stage",'
        '"Amount","Close Date","Created Date","Lead Source"\n'
        '"0065g00000A1","ACME","ACME Ltd","Amy Wang","Closed Won","TWD 120,000","2024/2/1",'
        '"2024/1/5","Web"\n'
        '"0065g00000A2","Beta","Beta Co","Ben Chen","Negotiation/Review","TWD 80,000","",'
        '"2024/1/6","Partner"\n'
        "\n"
        '"Confidential Information - Do Not Distribute"\n'
        '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."\n',
    )
    write_text(
        presets / "ga4_traffic_en.csv",
        "# ----------------------------------------\n"
        "# Traffic acquisition: Session default channel group\n"
        "# Account: Panda Blog\n"
        "# Property: pandablog.tw\n"
        "# ----------------------------------------\n"
        "#\n"
        "# Start date: 20240101\n"
        "# End date: 20240102\n"
        "Session default channel group,Date,Sessions,Engaged sessions,Engagement rate,"
        "Active users,New users,User engagement,Key events,Total ad revenue\n"
        "Organic Search,20240101,120,80,0.6666,100,40,3600,3,12.5\n"
        "Direct,20240101,30,20,0.6666,25,5,900,0,0\n"
        "Organic Search,20240102,140,90,0.6428,110,45,4000,4,15\n"
        "\n"
        "# ----------------------------------------\n"
        "# A second table GA4 may append\n"
        "Date,Sessions\n"
        "20240101,150\n",
    )
    write_text(
        presets / "ga4_traffic_zh.csv",
        "# ----------------------------------------\n"
        "# 流量開發: 工作階段預設管道群組\n"
        "# 開始日期: 20240101\n"
        "# 結束日期: 20240101\n"
        "# ----------------------------------------\n"
        "工作階段預設管道群組,日期,工作階段,互動工作階段,活躍使用者,新使用者,重要事件\n"
        "Organic Search,20240101,120,80,100,40,3\n"
        "Direct,20240101,30,20,25,5,0\n",
        encoding="utf-8-sig",
    )


def broken_client() -> None:
    broken = HERE / "broken_client"
    write_text(
        broken / "client.yml",
        "# A client folder whose files break every rule the loaders check.\n"
        "name: {zh-TW: 壞掉的範例公司, en: Broken Example Ltd.}\n"
        "business_model: ecommerce\n"
        "strategy: [grow_revenue]\n"
        "tables:\n"
        "  orders: {file: orders.csv}\n"
        "  contracts: {file: contracts.csv}\n"
        "  customers: {file: customers.csv}\n"
        "  feedback: {file: feedback.csv}\n",
    )
    # Row 1 is the header; rows 2-6 are data. '客戶' is not an accepted header for customer_id.
    write_text(
        broken / "orders.csv",
        "訂單編號,客戶,訂單日期,金額\n"
        "A1,C1,2024-01-05,1200\n"
        "A2,C2,2024/13/01,800\n"
        "A2,C3,2024-01-07,-1200\n"
        "A4,C4,N/A,one thousand\n"
        "A5,C5,2024-01-09,500\n",
    )
    write_text(
        broken / "contracts.csv",
        "contract_id,customer_id,start_date,end_date,total_value\n"
        "K1,C1,2024-01-01,2024-12-31,120000\n"
        "K2,C2,2024-06-01,2024-05-31,60000\n",
    )
    write_text(broken / "customers.csv", "")
    (broken / "feedback.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")

    bad_config = HERE / "bad_config"
    write_text(
        bad_config / "client.yml",
        "name: Bad Config Ltd.\n"
        "business_model: saass\n"
        "strategy: [grow_revenu]\n"
        "tables:\n"
        "  order: {file: orders.csv}\n"
        "  contracts: {file: contract.csv}\n"
        "  deals: {file: deals.csv, preset: hubspott}\n"
        "goals:\n"
        "  - {goal_id: g1, kpi: acv, period: 2024Q5}\n",
    )
    write_text(
        bad_config / "contracts.csv",
        "contract_id,customer_id,start_date,end_date,total_value\nK1,C1,2024-01-01,2024-12-31,1\n",
    )
    write_text(
        bad_config / "deals.csv",
        "Record ID,Deal Stage,Create Date\n1,Closed won,2024-01-01\n",
    )


if __name__ == "__main__":
    good_files()
    preset_files()
    broken_client()
