"""Input checks shared by the customer engines: one clear error naming the argument and column.

Every engine in :mod:`channelkit.customers` works on a *transaction log*: one row per purchase
(an order, or a line of a plain log) with a customer id, a timestamp and an amount. These helpers
check such a frame at the top of each engine and coerce the timestamp column to ``datetime64``.
"""
from __future__ import annotations

import reprlib

import pandas as pd

from channelkit.errors import InputError

_short = reprlib.Repr()
_short.maxlist = 5
_short.maxstring = 40


def short(values: object) -> str:
    """A short repr of example values for an error message (at most 5 items)."""
    if isinstance(values, (pd.Series, pd.Index)):
        values = list(values)
    return _short.repr(values)


def require_columns(frame: pd.DataFrame, columns: list[str] | tuple[str, ...], *, name: str) -> None:
    """Raise :class:`InputError` naming ``name`` and the missing columns when any is absent."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"`{name}` must be a pandas DataFrame, but got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"`{name}` is missing column(s) {missing}; it has {short(list(frame.columns))}. "
            f"Pass the column names as keywords (e.g. customer_col=..., date_col=..., amount_col=...)"
        )


def as_timestamp(value: object, *, name: str) -> pd.Timestamp:
    """Parse a date argument (``"2025-06-30"``, a Timestamp, a date) or raise naming ``name``."""
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InputError(f"`{name}` must be a date such as '2025-06-30', but got {value!r}") from exc
    if pd.isna(stamp):
        raise InputError(f"`{name}` must be a date such as '2025-06-30', but got {value!r}")
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp


def check_transactions(
    frame: pd.DataFrame,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    name: str = "transactions",
) -> pd.DataFrame:
    """Validate a transaction log and return a copy with parsed dates and float amounts.

    Rules: the columns exist; ``date_col`` parses as dates (the offending values are named
    otherwise); ``amount_col`` (when given) is numeric, finite and not negative (refunds are a
    status in the contract, never a negative amount); rows with an empty customer id (anonymous
    walk-in sales) are dropped, because they cannot be followed over time.
    """
    columns = [customer_col, date_col] + ([amount_col] if amount_col else [])
    require_columns(frame, columns, name=name)
    out = frame.loc[frame[customer_col].notna()].copy()
    if out.empty:
        raise InputError(f"`{name}` has no rows with a customer id in column '{customer_col}'")
    if not pd.api.types.is_datetime64_any_dtype(out[date_col]):
        parsed = pd.to_datetime(out[date_col], errors="coerce")
        if parsed.isna().any():  # exports mix "2025-06-11" and "2025-06-11 20:14:05": parse each
            parsed = pd.to_datetime(out[date_col], errors="coerce", format="mixed")
        bad = out.loc[parsed.isna(), date_col]
        if len(bad):
            raise InputError(
                f"`{name}` column '{date_col}' must hold dates, but {len(bad)} value(s) do not parse: "
                f"{short(bad.astype(str).unique()[:5])}"
            )
        out[date_col] = parsed
    if getattr(out[date_col].dt, "tz", None) is not None:
        out[date_col] = out[date_col].dt.tz_localize(None)
    if amount_col:
        values = pd.to_numeric(out[amount_col], errors="coerce")
        bad = out.loc[values.isna() | (values < 0), amount_col]
        if len(bad):
            raise InputError(
                f"`{name}` column '{amount_col}' must hold non-negative numbers, but got "
                f"{short(bad.astype(str).unique()[:5])}"
            )
        out[amount_col] = values.astype(float)
    out[customer_col] = out[customer_col].astype(str)
    return out
