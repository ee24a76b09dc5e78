"""Purchases from a raw transaction log (Online Retail, CDNOW and shop exports), cleaned by stated rules.

A raw log has one row per invoice *line*: several lines per invoice, several invoices per day,
times of day, lines without a customer id, and cancellations or returns as negative lines. The
customer engines (:mod:`~channelkit.customers.clv`, :mod:`~channelkit.customers.rfm`) need one
row per purchase. :func:`purchases_from_log` turns the log into one row per *customer-day*, the
unit of lifetimes' ``summary_data_from_transaction_data`` (``freq="D"``), by these rules, in order:

1. **No customer id** (missing or blank): the line is dropped (it cannot be followed over time)
   and counted in ``no_customer``. Never an error.
2. **Line amount**: ``amount_col``, or ``quantity_col * price_col`` when the log has no amount.
3. **Returns**, the lines that undo a sale: invoice ids starting with ``cancel_prefix`` (Online
   Retail's ``"C"``), and lines with a negative quantity or a negative amount.

   - ``returns="drop"`` (default): return lines are removed (counted in ``cancelled_lines``
     and ``negative_lines``). This is what lifetimes users do with Online Retail (keep
     ``Quantity > 0``, drop ``C`` invoices): a cancellation is usually booked days after the
     sale, so netting it against its own day is impossible from the log alone, and the model's
     question is *when* a customer came back to buy.
   - ``returns="net"``: return lines subtract their absolute value from the spend of the
     customer-day they are booked on (``returned_lines`` counts them).
4. **Purchase days**: the remaining lines are summed per customer and calendar day (the time of
   day is dropped; two invoices on one day are one purchase), as lifetimes does. A day of free
   lines only (spend 0) is still a purchase, as in lifetimes and in CDNOW's published counts.
   With ``returns="net"``, a day holding return lines whose net spend is ``<= 0`` was undone by
   them and is not a purchase (``returned_days``).

Dates are parsed as given (``dayfirst=True`` for ``31/12/2010``-style text); a text date whose
first field exceeds 12 under month-first parsing (or second field under day-first) is an error
that names the option, never a silent swap of day and month.
"""
from __future__ import annotations

import re
import warnings
from typing import Literal

import numpy as np
import pandas as pd

from channelkit.customers._validate import require_columns, short
from channelkit.errors import InputError

ReturnRule = Literal["drop", "net"]
_SLASHED = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}\b")


def customer_ids(values: pd.Series) -> pd.Series:
    """Ids as stripped text, missing where empty; float ids such as ``13085.0`` become ``"13085"``.

    Spreadsheets and CSV readers turn an integer id column with gaps into floats (Online Retail's
    ``Customer ID``); the id is the integer, so the ``.0`` is not part of it.
    """
    # Clean each distinct id once: a log repeats every id on many lines.
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = pd.Series(uniques)
    if pd.api.types.is_float_dtype(uniques) and (uniques == np.floor(uniques)).all():
        uniques = uniques.astype("Int64")
    text = uniques.astype("string").str.strip()
    text = text.mask(text == "")
    present = text.dropna()
    if len(present) and present.str.fullmatch(r"\d+\.0").all():
        text = text.str.slice(stop=-2)
    out = pd.Series(pd.array(text, dtype="string")[codes], index=values.index, name=values.name)
    return out.mask(codes < 0)


def parse_log_dates(values: pd.Series, *, dayfirst: bool = False, date_col: str = "date") -> pd.Series:
    """Timestamps (tz-naive) from a date column; text dates day-first when ``dayfirst=True``.

    Raises :class:`InputError` naming ``date_col`` with examples when values do not parse, or when
    slashed dates contradict the order asked for (e.g. ``13/01/2011`` read month-first).
    """
    if not pd.api.types.is_datetime64_any_dtype(values):
        # Parse each distinct value once (a log repeats each invoice time on all its lines).
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        parsed = _parse_text_dates(pd.Series(uniques).astype("string").str.strip(), dayfirst=dayfirst,
                                   date_col=date_col)
        values = pd.Series(parsed.to_numpy()[codes], index=values.index, name=values.name)
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    return values


def _parse_text_dates(text: pd.Series, *, dayfirst: bool, date_col: str) -> pd.Series:
    """Distinct text dates to timestamps; the order checks of :func:`parse_log_dates`."""
    fields = text.str.extract(_SLASHED).astype(float)
    wrong = fields[1] > 12 if dayfirst else fields[0] > 12
    if wrong.any():
        hint = "month-first: leave out --dayfirst (dayfirst=False)" if dayfirst else \
            "day-first: pass --dayfirst (dayfirst=True)"
        raise InputError(f"column '{date_col}' has dates that read {hint}; e.g. "
                         f"{short(list(text[wrong].unique()[:5]))}")
    with warnings.catch_warnings():  # mixed time-zone offsets: refused below with a clear message
        warnings.simplefilter("ignore", FutureWarning)
        parsed = pd.to_datetime(text, dayfirst=dayfirst, errors="coerce")
        if parsed.isna().any():  # exports mix "2011-06-11" and "2011-06-11 20:14:05": parse each
            parsed = pd.to_datetime(text, dayfirst=dayfirst, errors="coerce", format="mixed")
    if not pd.api.types.is_datetime64_any_dtype(parsed):
        raise InputError(f"column '{date_col}' mixes time zones or offsets (e.g. {short(list(text[:3]))}); "
                         "give every date the same offset, or none")
    bad = text.loc[parsed.isna()]
    if len(bad):
        raise InputError(f"column '{date_col}' must hold dates, but {len(bad)} value(s) do not parse: "
                         f"{short(list(bad.fillna('(missing)').astype(str).unique()[:5]))}")
    return parsed


def _numbers(log: pd.DataFrame, column: str) -> pd.Series:
    values = pd.to_numeric(log[column], errors="coerce").astype(float)
    bad = log[column].loc[values.isna() | ~np.isfinite(values)]
    if len(bad):
        raise InputError(f"column '{column}' must hold numbers, but {len(bad)} value(s) do not: "
                         f"{short(list(bad.astype(str).unique()[:5]))}")
    return values


def _check_options(log: pd.DataFrame, *, customer_col: str, date_col: str, amount_col: str | None,
                   quantity_col: str | None, price_col: str | None, invoice_col: str | None,
                   cancel_prefix: str | None, returns: str) -> None:
    if returns not in ("drop", "net"):
        raise InputError(f"`returns` must be 'drop' or 'net', but got {returns!r}")
    if amount_col is None and not (quantity_col and price_col):
        raise InputError("name the spend: `amount_col`, or both `quantity_col` and `price_col` "
                         f"(got quantity_col={quantity_col!r}, price_col={price_col!r})")
    if cancel_prefix is not None and not (isinstance(cancel_prefix, str) and cancel_prefix and invoice_col):
        raise InputError(f"`cancel_prefix` ({cancel_prefix!r}) needs a non-empty prefix and `invoice_col`")
    named = [customer_col, date_col, amount_col, quantity_col, invoice_col]
    named += [price_col] if amount_col is None else []
    require_columns(log, [c for c in named if c], name="log")


def purchases_from_log(
    log: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    quantity_col: str | None = None,
    price_col: str | None = None,
    invoice_col: str | None = None,
    cancel_prefix: str | None = None,
    returns: ReturnRule = "drop",
    dayfirst: bool = False,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """One row per customer-day with a purchase, and how many lines or days each rule removed.

    Returns ``(purchases, counts)``. ``purchases`` has ``customer_id`` (text), ``order_ts`` (the
    day, midnight), ``revenue`` (the day's spend, >= 0) and ``lines`` (log lines summed), sorted
    by customer and day. ``counts`` holds ``rows``, ``no_customer``, then ``cancelled_lines`` and
    ``negative_lines`` (``returns="drop"``) or ``returned_lines`` and ``returned_days``
    (``"net"``), then ``purchases`` and ``customers``. Pass ``amount_col=None`` with
    ``quantity_col`` and ``price_col`` to price lines as quantity x unit price; a given
    ``quantity_col`` also flags negative quantities as returns. See the module docstring for the
    rules.
    """
    _check_options(log, customer_col=customer_col, date_col=date_col, amount_col=amount_col,
                   quantity_col=quantity_col, price_col=price_col, invoice_col=invoice_col,
                   cancel_prefix=cancel_prefix, returns=returns)
    counts = {"rows": int(len(log))}
    ids = customer_ids(log[customer_col])
    known = ids.notna().to_numpy()
    counts["no_customer"] = int((~known).sum())
    if not known.any():
        raise InputError(f"the log has no rows with a customer id in column '{customer_col}'")
    log, ids = log.loc[known], ids.loc[known]
    quantity = _numbers(log, quantity_col) if quantity_col else None
    amount = _numbers(log, amount_col) if amount_col else quantity * _numbers(log, price_col)
    days = parse_log_dates(log[date_col], dayfirst=dayfirst, date_col=date_col).dt.normalize()
    cancelled = log[invoice_col].astype("string").str.strip().str.startswith(cancel_prefix).fillna(False) \
        if cancel_prefix else pd.Series(False, index=log.index)
    negative = (amount < 0) | (quantity < 0 if quantity is not None else False)
    is_return = (cancelled | negative).to_numpy(bool)
    if returns == "drop":
        counts["cancelled_lines"] = int(cancelled.sum())
        counts["negative_lines"] = int((negative & ~cancelled).sum())
        keep = ~is_return
        ids, days, amount, is_return = ids.loc[keep], days.loc[keep], amount.loc[keep], is_return[keep]
    else:
        counts["returned_lines"] = int(is_return.sum())
        amount = amount.where(~is_return, -amount.abs())  # a cancelled line subtracts, whatever its sign
    daily = pd.DataFrame({"customer_id": ids.astype(object), "order_ts": days, "revenue": amount,
                          "returns": is_return}).groupby(["customer_id", "order_ts"], sort=True).agg(
        revenue=("revenue", "sum"), lines=("revenue", "size"), returns=("returns", "any")).reset_index()
    undone = (daily["revenue"] <= 0) & daily.pop("returns")
    if returns == "net":
        counts["returned_days"] = int(undone.sum())
        daily = daily.loc[~undone].reset_index(drop=True)
    if daily.empty:
        raise InputError(f"the log has no purchase left after removing returns; counts: {counts}")
    counts["purchases"] = int(len(daily))
    counts["customers"] = int(daily["customer_id"].nunique())
    return daily, counts
