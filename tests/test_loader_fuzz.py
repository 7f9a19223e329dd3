"""Property: whatever bytes or text a loader gets, it returns a table or raises KpitoolsError."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpitools._errors import KpitoolsError
from kpitools.io import load_contracts, load_orders, load_table, load_web_traffic

FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HEADER_WORDS = st.sampled_from(
    [
        "order_id",
        "customer_id",
        "order_date",
        "amount",
        "訂單編號",
        "客戶編號",
        "金額",
        "日期",
        "discount",
        "",
        "#",
        "x",
    ]
)
CELLS = st.one_of(
    st.sampled_from(
        [
            "2024-01-05",
            "113/01/05",
            "民國113年1月5日",
            "NT$1,234",
            "(1,234)",
            "１２３４",
            "12%",
            "",
            "N/A",
            "45296",
            "2024/13/01",
            "-5",
            '"',
            "#1001",
            "9" * 30,
            "2999-01-01",
        ]
    ),
    st.text(max_size=12),
)


def outcome(loader, source, **kwargs):
    try:
        frame = loader(source, **kwargs)
    except KpitoolsError as exc:
        assert str(exc)  # a message, never an empty error
        return "error"
    assert isinstance(frame, pd.DataFrame)
    return "table"


@FUZZ
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes(data):
    outcome(load_orders, data)


@FUZZ
@given(
    header=st.lists(HEADER_WORDS, min_size=1, max_size=6),
    rows=st.lists(st.lists(CELLS, max_size=7), max_size=6),
    delimiter=st.sampled_from([",", "\t", ";"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp950"]),
)
def test_csv_like_text(header, rows, delimiter, encoding):
    text = "\n".join(delimiter.join(r) for r in [header, *rows])
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    outcome(load_orders, data)


@FUZZ
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".xlsx", ".parquet", ".tsv"]))
def test_arbitrary_files_with_any_suffix(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export{suffix}"
        path.write_bytes(data)
        outcome(load_contracts, path)
        assert path.read_bytes() == data  # never modified


@FUZZ
@given(
    text=st.text(max_size=300),
    preset=st.sampled_from([None, "ga4"]),
    header_row=st.one_of(st.none(), st.integers(min_value=1, max_value=4)),
)
def test_any_text_any_options(text, preset, header_row):
    outcome(load_web_traffic, text.encode("utf-8"), preset=preset, header_row=header_row)


@FUZZ
@given(
    cells=st.lists(
        st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=8), st.datetimes()),
        min_size=1,
        max_size=8,
    )
)
def test_dataframes_with_mixed_python_values(cells):
    frame = pd.DataFrame(
        {"customer_id": ["C"] * len(cells), "signup_date": cells, "name": cells}, dtype=object
    )
    outcome(lambda s: load_table("customers", s), frame)
