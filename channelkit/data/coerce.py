"""Turn exported text into the contract's types, vectorised, and say which cells could not be.

Conventions (the contract's, see ``contract.py``):
- Money and counts may carry ``¥``/``￥``, ``元``, ``RMB``/``CNY``, spaces and thousands separators
  (``¥1,234.50``); a trailing ``%`` divides by 100 (``20%`` -> 0.2).
- Timestamps are naive local shop time. A column whose values all carry a zone (``+08:00``,
  ``Z``) is converted to the shop's zone (Asia/Shanghai unless a caller sets another with
  :func:`shop_timezone`, as ``channelkit.data.market.load_market_dataset`` does) and the zone dropped; a column that mixes values with and
  without a zone is an error, since the naive ones cannot be placed on the same clock.
- Dates keep the day (a time part is dropped). Empty cells and blank strings are missing values.

Each function returns the typed values and a list of :class:`Issue` (rule broken, offending
rows); offending cells come back as missing so the remaining checks can still run.
"""
from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

from channelkit.data.dtypes import is_arrow_text, strip_labels

LOCAL_TZ = "Asia/Shanghai"
# The zone zone-aware timestamps are converted to. A context variable, set only inside
# ``with shop_timezone(...)``, so the loaders need no extra argument on every call and nothing
# outside the block (another thread, a later load) sees it.
_SHOP_TZ: ContextVar[str] = ContextVar("channelkit_shop_timezone", default=LOCAL_TZ)


@contextlib.contextmanager
def shop_timezone(tz: str) -> Iterator[str]:
    """Within the block, zone-aware timestamps are converted to ``tz`` (an IANA name)."""
    token = _SHOP_TZ.set(tz)
    try:
        yield tz
    finally:
        _SHOP_TZ.reset(token)
_MONEY = re.compile(r"[¥￥,，\s]|元|RMB|CNY", flags=re.IGNORECASE)
_ZONE = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})$", flags=re.IGNORECASE)
# A cell with white space (ASCII, Unicode separators such as the ideographic space, NEL) at an end.
_PADDED = r"^[\s\pZ\x{85}]|[\s\pZ\x{85}]$"
_TRUE = {"true", "t", "yes", "y", "1", "1.0", "是", "真"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", "否", "假"}


@dataclass(frozen=True)
class Issue:
    """Cells of one column that broke a type rule. ``rows`` marks them; ``count`` may say more."""

    rule: str
    rows: pd.Series  # boolean mask over the frame's index
    count: int | None = None  # defaults to rows.sum()


def _rows(n: int) -> str:
    return f"{n} row{'s' if n != 1 else ''}"


def _text(series: pd.Series) -> pd.Series:
    """Stripped text with blanks as missing (object dtype)."""
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        text = series.str.strip()  # fast path: all cells are str (or missing), as CSV readers give them
    else:
        text = series.astype(object).where(series.notna())
        text = text.where(text.isna(), text.astype(str).str.strip())
    return text.where(text != "")


def to_string(series: pd.Series, *, trimmed: bool = False) -> tuple[pd.Series, list[Issue]]:
    """Ids and labels as stripped text; whole-number floats (Excel ids) lose their ``.0``.

    ``trimmed=True`` says the reader already stripped the cells and made blanks missing.
    Categories and pyarrow-backed text keep their type (stripped over the distinct labels, or
    in Arrow), so a large table's ids are never turned into Python objects.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        return strip_labels(series), []
    if is_arrow_text(series):
        return _strip_arrow_text(series), []
    if trimmed and series.dtype == object:
        return series.where(series.notna()), []  # missing as NaN, like every other reader
    if pd.api.types.is_float_dtype(series):
        whole = series.notna() & (series % 1 == 0)
        as_text = series.astype(object)
        as_text[whole] = series[whole].astype("int64").astype(str)
        series = as_text
    return _text(series), []


def _strip_arrow_text(series: pd.Series) -> pd.Series:
    """Pyarrow-backed text stripped and blanks made missing, in Arrow (no Python objects)."""
    values = series.array.__arrow_array__()
    if not pc.any(pc.match_substring_regex(values, _PADDED)).as_py() and not pc.any(pc.equal(values, "")).as_py():
        return series  # already clean: keep the buffers (a trimmed copy of millions of ids costs memory)
    trimmed = pc.utf8_trim_whitespace(values)
    trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed)
    out = trimmed.to_pandas(types_mapper={trimmed.type: series.dtype}.get)
    return pd.Series(out.array, index=series.index, name=series.name)


def to_number(series: pd.Series, *, integer: bool, nullable: bool = True) -> tuple[pd.Series, list[Issue]]:
    """Numbers from numbers or text (currency signs, separators, ``%``); ints as int64/Int64."""
    issues: list[Issue] = []
    if is_bool_dtype(series):
        series = series.astype("int64")
    if integer and series.dtype == np.int64:
        return series, issues  # already whole numbers: no copy
    if is_numeric_dtype(series):
        values = series.astype("float64", copy=False)
    else:
        text = _text(series)
        cleaned = text.str.replace(_MONEY, "", regex=True)
        percent = cleaned.str.endswith("%", na=False)
        cleaned = cleaned.str.rstrip("%")
        values = pd.to_numeric(cleaned, errors="coerce").astype("float64")
        values[percent] = values[percent] / 100.0
        bad = text.notna() & values.isna()
        if bad.any():
            issues.append(Issue("must be a number", bad))
    if integer:
        fraction = values.notna() & (values % 1 != 0)
        if fraction.any():
            issues.append(Issue("must be a whole number", fraction))
            values = values.where(~fraction)
        if values.notna().all():
            return values.astype("int64"), issues
        return values.round().astype("Int64"), issues
    return values, issues


def to_datetime(series: pd.Series, *, date_only: bool = False) -> tuple[pd.Series, list[Issue]]:
    """Naive local timestamps (``datetime64[ns]``); see the module docstring for zones."""
    if is_datetime64_any_dtype(series):
        values = series
        if getattr(series.dt, "tz", None) is not None:
            values = series.dt.tz_convert(_SHOP_TZ.get()).dt.tz_localize(None)
        values = values.astype("datetime64[ns]", copy=False)
        return (values.dt.normalize() if date_only else values), []
    text = _text(series)
    aware = text.str.contains(_ZONE, na=False)
    issues: list[Issue] = []
    n_aware, n_naive = int(aware.sum()), int((text.notna() & ~aware).sum())
    values = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    if n_aware and n_naive:
        # Show both kinds among the examples: the first three with a zone, the first two without.
        examples = pd.Series(False, index=series.index)
        examples[aware[aware].index[:3]] = True
        examples[(text.notna() & ~aware)[lambda m: m].index[:2]] = True
        issues.append(Issue(f"mixes times with a time zone ({_rows(n_aware)}) and without ({_rows(n_naive)}); "
                            "export all times in one form (local time without zone is the convention)",
                            examples, count=n_aware + n_naive))
    if n_aware:
        parsed = pd.to_datetime(text[aware], utc=True, format="ISO8601", errors="coerce")
        values[aware] = parsed.dt.tz_convert(_SHOP_TZ.get()).dt.tz_localize(None).astype("datetime64[ns]")
    naive = text.notna() & ~aware
    if n_naive:
        values[naive] = _parse_naive(text[naive])
    bad = text.notna() & values.isna()
    if bad.any():
        kind = "date" if date_only else "date/time"
        issues.append(Issue(f"is not a {kind} (expected e.g. 2025-06-11{'' if date_only else ' 20:14:05'})", bad))
    return (values.dt.normalize() if date_only else values), issues


def _parse_naive(text: pd.Series) -> pd.Series:
    """ISO 8601 first (fast path); the rest in the format guessed from its first value (2025/6/11 ...)."""
    values = pd.to_datetime(text, format="ISO8601", errors="coerce")
    failed = values.isna()
    if failed.any():
        guess = pd.tseries.api.guess_datetime_format(str(text[failed].iloc[0]))
        if guess:
            values[failed] = pd.to_datetime(text[failed], format=guess, errors="coerce")
    return values.astype("datetime64[ns]")


def to_bool(series: pd.Series) -> tuple[pd.Series, list[Issue]]:
    """Booleans from bools, 0/1, true/false, yes/no, 是/否."""
    if is_bool_dtype(series) and series.notna().all():
        return series.astype(bool), []
    text = _text(series).str.lower()
    values = pd.Series(np.where(text.isin(_TRUE), True, np.where(text.isin(_FALSE), False, None)),
                       index=series.index, dtype=object)
    bad = text.notna() & values.isna()
    issues = [Issue("must be true or false", bad)] if bad.any() else []
    if values.notna().all():
        return values.astype(bool), issues
    return values.astype("boolean"), issues


def coerce_column(series: pd.Series, dtype: str, *, trimmed: bool = False
                  ) -> tuple[pd.Series, list[Issue]]:
    """Dispatch on the contract dtype (``string``, ``int``, ``float``, ``datetime``, ``date``, ``bool``)."""
    if dtype == "string":
        return to_string(series, trimmed=trimmed)
    if dtype in ("int", "float"):
        return to_number(series, integer=dtype == "int")
    if dtype in ("datetime", "date"):
        return to_datetime(series, date_only=dtype == "date")
    if dtype == "bool":
        return to_bool(series)
    raise ValueError(f"unknown contract dtype {dtype!r}")
