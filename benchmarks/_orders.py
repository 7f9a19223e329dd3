"""Synthetic order tables for the benchmarks (canonical ``orders`` columns, Parquet)."""

from __future__ import annotations

from pathlib import Path


def write_orders(rows: int, path: Path, *, seed: int, first_day: str, days: int,
                 orders_per_customer: int, channels: tuple[str, ...],
                 products: int | None = None) -> None:
    """Write ``rows`` orders spread uniformly over ``days`` days from ``first_day``.

    Amounts are log-normal (rounded to whole NT$), 30 % of orders carry a 10 % discount, each
    customer has ``orders_per_customer`` orders on average. With ``products`` the table also
    gets a ``cost`` (40-70 % of the amount) and a ``product`` column.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    n_customers = max(rows // orders_per_customer, 1)
    ids = pa.array(np.arange(rows, dtype=np.int64))
    customers = pa.array(rng.integers(0, n_customers, rows, dtype=np.int64))
    offsets = rng.integers(0, days, rows).astype("timedelta64[D]")
    amount = np.round(rng.lognormal(7.0, 0.8, rows), 0)
    discount = np.where(rng.random(rows) < 0.3, np.round(amount * 0.1, 0), 0.0)
    columns = {
        "order_id": pc.binary_join_element_wise("O", pc.cast(ids, pa.string()), ""),
        "customer_id": pc.binary_join_element_wise("C", pc.cast(customers, pa.string()), ""),
        "order_date": pa.array((np.datetime64(first_day) + offsets).astype("datetime64[us]")),
        "amount": amount,
        "discount": discount,
    }
    if products is not None:
        columns["cost"] = np.round(amount * rng.uniform(0.4, 0.7, rows), 0)
    columns["channel"] = np.array(channels)[rng.integers(0, len(channels), rows)]
    if products is not None:
        names = np.char.add("P", np.arange(products).astype(str))
        columns["product"] = names[rng.integers(0, products, rows)]
    pq.write_table(pa.table(columns), path, row_group_size=1_000_000)
