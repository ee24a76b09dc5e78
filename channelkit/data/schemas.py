"""pandera schemas built from the contract (``contract.py``), one per table.

They check a frame whose columns already have the contract's types (see ``coerce.py``): dtype,
missing values, ranges (``min``/``max`` inclusive), allowed values, the table's unique key, and
row rules that span columns (``clicks <= impressions``). Cross-table keys need several tables and
live in ``validation.py``. Use them directly on a frame of your own::

    from channelkit.data.schemas import table_schema
    table_schema("orders").validate(frame, lazy=True)   # pandera.errors.SchemaErrors lists all
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import pandas as pd
import pandera.pandas as pa

from channelkit.data.contract import TABLES, Column

# Contract dtype -> pandas dtype of a loaded column (nullable ints/bools use pandas' masked types).
PANDAS_DTYPES: dict[str, str | None] = {
    "string": None,  # object column of str; not dtype-checked (pandera would test every cell)
    "int": "int64",
    "float": "float64",
    "datetime": "datetime64[ns]",
    "date": "datetime64[ns]",
    "bool": "bool",
}


def _clicks_at_most_impressions(frame: pd.DataFrame) -> pd.Series:
    both = frame["clicks"].notna() & frame["impressions"].notna()
    return ~both | (frame["clicks"] <= frame["impressions"])


# Row rules over several columns: table -> [(name shown in messages, columns it reads, function)].
ROW_RULES: dict[str, list[tuple[str, tuple[str, ...], Callable[[pd.DataFrame], pd.Series]]]] = {
    "marketing": [("clicks must not exceed impressions", ("clicks", "impressions"), _clicks_at_most_impressions)],
}


def pandas_dtype(column: Column) -> str | None:
    """The pandas dtype of a loaded contract column (``Int64``/``boolean`` when nullable)."""
    dtype = PANDAS_DTYPES[column.dtype]
    if column.nullable and dtype == "int64":
        return "Int64"
    if column.nullable and dtype == "bool":
        return "boolean"
    return dtype


def column_schema(column: Column) -> pa.Column:
    """A pandera column from a contract column: dtype, nullability, range and allowed values."""
    checks = []
    if column.min is not None:
        checks.append(pa.Check.ge(column.min, error=f"must be >= {column.min:g}"))
    if column.max is not None:
        checks.append(pa.Check.le(column.max, error=f"must be <= {column.max:g}"))
    if column.allowed is not None:
        checks.append(pa.Check.isin(list(column.allowed), error=f"must be one of {', '.join(column.allowed)}"))
    return pa.Column(pandas_dtype(column), checks=checks, nullable=column.nullable, required=column.required,
                     name=column.name)


@lru_cache(maxsize=None)
def table_schema(name: str) -> pa.DataFrameSchema:
    """The pandera schema of contract table ``name`` (cached; schemas are immutable)."""
    table = TABLES[name]
    rules = [pa.Check(function, name=label, error=label) for label, _, function in ROW_RULES.get(name, [])]
    return pa.DataFrameSchema(
        {column.name: column_schema(column) for column in table.columns},
        checks=rules, unique=list(table.key) or None, report_duplicates="all", strict=False, name=name,
    )
