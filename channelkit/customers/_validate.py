"""Input checks shared by the customer engines, and the integer-coded purchase log they work on.

Every engine in :mod:`channelkit.customers` works on a *transaction log*: one row per purchase
(an order, or a line of a plain log) with a customer id, a timestamp and an amount.
:func:`prepare` checks such a frame at the top of each engine (one clear error naming the
argument and column), keeps the purchases up to ``as_of`` and turns the customer ids into
integer codes once. Why codes: grouping and sorting millions of string ids is what made a large
shop take minutes; integer codes ordered like the sorted ids keep every output in customer-id
order and every tie-break the same, at the cost of one hash pass (none for a categorical column,
such as :func:`~channelkit.customers.view.customer_orders` returns).
"""
from __future__ import annotations

import reprlib
from typing import NamedTuple

import numpy as np
import pandas as pd

from channelkit.errors import InputError

DAY_NS = 86_400_000_000_000  # nanoseconds per day: timestamps as int64 ns floor-divide to day numbers

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


def sorted_codes(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer code per row (``-1`` where missing) and the ids as strings, codes in id order.

    Ids are compared as strings (``str(id)``), so codes sort like the ids' text (code point
    order, as Python and pandas sort strings); ids that only differ in type (``1`` and ``"1"``)
    become one. Unused categories of a categorical column get no code.
    """
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        codes, uniques = np.asarray(values.cat.codes, dtype=np.int64), values.cat.categories
    else:
        codes, uniques = pd.factorize(values, sort=False)
        codes = codes.astype(np.int64, copy=False)
    present = np.bincount(codes[codes >= 0], minlength=len(uniques)) > 0
    # A categorical's categories Index caches both checks, so repeated calls cost nothing.
    uniques = uniques if isinstance(uniques, pd.Index) else pd.Index(uniques)
    if uniques.inferred_type == "string" and uniques.is_monotonic_increasing:
        # Already sorted distinct strings (what customer_orders returns): just drop unused ones.
        dense = np.full(len(uniques) + 1, -1, dtype=np.int64)
        dense[np.flatnonzero(present)] = np.arange(int(present.sum()))
        return dense[codes], np.asarray(uniques[present], dtype=object)
    text = np.asarray(uniques[present].astype(str), dtype=object)
    order = _string_order(text)
    ranked = text[order]
    new = np.r_[True, ranked[1:] != ranked[:-1]] if len(ranked) else np.zeros(0, bool)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.cumsum(new) - 1
    lookup = np.full(len(uniques) + 1, -1, dtype=np.int64)  # the extra last slot maps -1 to -1
    lookup[np.flatnonzero(present)] = rank
    return lookup[codes], ranked[new]


def _string_order(text: np.ndarray) -> np.ndarray:
    """Argsort of strings in code point order; pyarrow's sort is ~4x faster than numpy's on objects."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        return np.asarray(pc.sort_indices(pa.array(text, type=pa.large_string())))
    except (ImportError, ValueError, TypeError, UnicodeError, ArithmeticError):  # e.g. lone surrogates
        return np.argsort(text, kind="stable")


class Purchases(NamedTuple):
    """A checked transaction log, one entry per kept row, customers as codes into ``ids``."""

    codes: np.ndarray  # int64, 0..len(ids)-1, ordered like the sorted ids
    ids: np.ndarray  # object array of str ids, sorted, each with at least one row
    ts: np.ndarray  # int64 nanoseconds since the epoch (tz-naive wall time)
    amount: np.ndarray | None  # float64, when an amount column was asked for
    extra: dict[str, np.ndarray]  # other requested columns, as arrays over the kept rows
    as_of: pd.Timestamp  # as_of as given, or the last kept purchase (not normalized)

    @property
    def days(self) -> np.ndarray:
        """Day number of each row (days since 1970-01-01; the calendar day of the timestamp)."""
        return self.ts // DAY_NS


def _parse_dates(column: pd.Series, *, name: str, date_col: str) -> pd.Series:
    if not pd.api.types.is_datetime64_any_dtype(column):
        parsed = pd.to_datetime(column, errors="coerce")
        if parsed.isna().any():  # exports mix "2025-06-11" and "2025-06-11 20:14:05": parse each
            parsed = pd.to_datetime(column, errors="coerce", format="mixed")
        bad = column.loc[parsed.isna()]
        if len(bad):
            raise InputError(
                f"`{name}` column '{date_col}' must hold dates, but {len(bad)} value(s) do not parse: "
                f"{short(bad.astype(str).unique()[:5])}"
            )
        column = parsed
    if getattr(column.dt, "tz", None) is not None:
        column = column.dt.tz_localize(None)
    return column


def _amounts(column: pd.Series, *, name: str, amount_col: str) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce")
    bad = column.loc[values.isna() | (values < 0)]
    if len(bad):
        raise InputError(
            f"`{name}` column '{amount_col}' must hold non-negative numbers, but got "
            f"{short(bad.astype(str).unique()[:5])}"
        )
    return values.to_numpy(np.float64)


def prepare(
    frame: pd.DataFrame,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    as_of: object = None,
    columns: tuple[str, ...] = (),
    name: str = "transactions",
) -> Purchases:
    """Validate a transaction log and keep the purchases up to ``as_of`` (inclusive, by day).

    Rules: the columns exist; ``date_col`` parses as dates (the offending values are named
    otherwise); ``amount_col`` (when given) is numeric, finite and not negative (refunds are a
    status in the contract, never a negative amount); rows with an empty customer id (anonymous
    walk-in sales) are dropped, because they cannot be followed over time. ``as_of`` defaults to
    the last purchase; rows on a later day are dropped.
    """
    require_columns(frame, [customer_col, date_col] + ([amount_col] if amount_col else []) + list(columns),
                    name=name)
    codes, ids = sorted_codes(frame[customer_col])
    keep = codes >= 0
    if not keep.any():
        raise InputError(f"`{name}` has no rows with a customer id in column '{customer_col}'")
    every = bool(keep.all())

    def kept(column: str) -> pd.Series:  # skip the copy when every row has a customer id
        return frame[column] if every else frame[column].loc[keep]

    ts = _parse_dates(kept(date_col), name=name, date_col=date_col).to_numpy("datetime64[ns]").view(np.int64)
    amount = _amounts(kept(amount_col), name=name, amount_col=amount_col) if amount_col else None
    as_of_ts = as_timestamp(as_of, name="as_of") if as_of is not None else pd.Timestamp(ts.max())
    end = (as_of_ts.normalize() + pd.Timedelta(days=1)).value
    within = ts < end
    if not within.any():
        raise InputError(f"no purchases on or before as_of={as_of!r}")
    codes = codes if every else codes[keep]
    extra = {c: np.asarray(kept(c)) for c in columns}
    if not within.all():
        codes, ts = codes[within], ts[within]
        amount = amount[within] if amount is not None else None
        extra = {c: v[within] for c, v in extra.items()}
    used = np.bincount(codes, minlength=len(ids)) > 0
    if not used.all():  # customers whose every purchase is after as_of: renumber the rest densely
        codes = (np.cumsum(used) - 1)[codes]
        ids = ids[used]
    return Purchases(codes, ids, ts, amount, extra, as_of_ts)
