r"""Customer journeys and the aggregated path table.

Conventions
- A *journey* is the ordered list of marketing touches of one customer that end either in an
  order (a conversion) or in nothing (a null journey). A touch belongs to the customer's first
  order at or after it, when that order is at most ``lookback_days`` later; touches that reach no
  order in time form one null journey per customer and order gap (touches older than the lookback
  before an order, or after the last order).
- Touches are sorted by time before paths are built (the input may come in any order); ties keep
  the input order.
- Orders without any touch in their lookback window are conversions without touchpoints. They
  are left out of the path table by default (they cannot be credited to any marketing channel;
  their count is in ``journeys.attrs["untouched_conversions"]``), or, with
  ``untouched="direct"``, enter it as the one-touch path ``direct``.
- Conversion value = sum of ``units * unit_price`` over the order's lines that are not
  ``cancelled``.
- The path table has one row per distinct path: ``path`` (channels joined by ``" > "``),
  ``conversions``, ``value``, ``nulls`` (journeys on that path that did not convert). The column
  names of the ChannelAttribution package (``total_conversions``, ``total_conversion_value``,
  ``total_null``) are accepted on input.
- Channel names are kept whole, whatever they hold (``,``, ``;``, quotes, Chinese, ``>``): inside a
  path a ``>`` that belongs to a name is written ``\>`` and a backslash ``\\`` (see
  :func:`join_path`, :func:`split_path`), so ``a>b`` stays one channel. A path table written by
  hand or by ChannelAttribution needs that escape only for names that contain ``>`` or ``\``.
"""
from __future__ import annotations

import re
import reprlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from channelkit.errors import InputError

PATH_SEP = " > "
PATH_COLUMNS = ["path", "conversions", "value", "nulls"]
CA_COLUMNS = {"total_conversions": "conversions", "total_conversion_value": "value", "total_null": "nulls"}
JOURNEY_COLUMNS = ["journey", "position", "channel", "ts", "converted", "value", "conversion_ts"]


def _order_values(orders: pd.DataFrame) -> pd.DataFrame:
    """One row per order with a customer: ``order_id, customer_id, order_ts, value``."""
    need = {"order_id", "customer_id", "order_ts"}
    missing = need - set(orders.columns)
    if missing:
        raise InputError(f"`orders` is missing column(s) {sorted(missing)}; it needs order_id, customer_id, order_ts")
    o = orders.loc[orders["customer_id"].notna()].copy()
    if "status" in o.columns:
        o = o.loc[o["status"].fillna("paid") != "cancelled"]
    if {"units", "unit_price"} <= set(o.columns):
        o["value"] = o["units"].astype(float) * o["unit_price"].astype(float)
    else:
        o["value"] = 0.0
    o["order_ts"] = pd.to_datetime(o["order_ts"])
    return (o.groupby("order_id", sort=False)
            .agg(customer_id=("customer_id", "first"), order_ts=("order_ts", "first"), value=("value", "sum"))
            .reset_index())


def _check_channels(touchpoints: pd.DataFrame, channels: Iterable[str] | None) -> None:
    if channels is None:
        return
    unknown = sorted(set(touchpoints["channel"].astype(str)) - set(channels))
    if unknown:
        raise InputError(f"`touchpoints` has channel(s) not in `channels`: {reprlib.repr(unknown)}; "
                         "add them to the channels table or drop those touches")


def build_journeys(touchpoints: pd.DataFrame, orders: pd.DataFrame, *, lookback_days: float = 30,
                   channels: Iterable[str] | None = None, untouched: str = "drop",
                   direct_channel: str = "direct") -> pd.DataFrame:
    """Long frame of journeys: one row per touch (``JOURNEY_COLUMNS``), in journey order.

    ``untouched``: ``"drop"`` (default) or ``"direct"`` for orders without touches (see module
    docstring). ``channels``: when given, touches on any other channel raise :class:`InputError`.
    """
    if untouched not in ("drop", "direct"):
        raise InputError(f"`untouched` must be 'drop' or 'direct', but got {untouched!r}")
    if lookback_days <= 0:
        raise InputError(f"`lookback_days` must be > 0, but got {lookback_days}")
    missing = {"customer_id", "ts", "channel"} - set(touchpoints.columns)
    if missing:
        raise InputError(f"`touchpoints` is missing column(s) {sorted(missing)}")
    _check_channels(touchpoints, channels)
    ov = _order_values(orders)
    cust, _ = pd.factorize(pd.concat([touchpoints["customer_id"], ov["customer_id"]], ignore_index=True)
                              .astype(str))
    n_tp = len(touchpoints)
    ts = pd.to_datetime(touchpoints["ts"], errors="coerce")
    if ts.isna().any():
        bad = touchpoints.loc[ts.isna().to_numpy(), "ts"].astype(str).head(5).tolist()
        raise InputError(f"`touchpoints` column `ts` has {int(ts.isna().sum())} missing or unreadable "
                         f"timestamps, e.g. {bad}")
    tp = pd.DataFrame({"cust": cust[:n_tp], "ts": ts.to_numpy(),
                       "channel": touchpoints["channel"].astype(str).to_numpy(), "row": np.arange(n_tp)})
    ov = ov.assign(cust=cust[n_tp:], oidx=np.arange(len(ov)))
    tp = tp.sort_values(["ts", "row"], kind="stable")
    m = pd.merge_asof(tp, ov[["cust", "order_ts", "oidx"]].sort_values("order_ts", kind="stable"),
                      left_on="ts", right_on="order_ts", by="cust", direction="forward")
    oidx = m["oidx"].fillna(-1).to_numpy(np.int64)
    age = (m["order_ts"] - m["ts"]).to_numpy()
    in_window = (oidx >= 0) & (age <= np.timedelta64(int(lookback_days * 86400), "s"))
    # a touch outside the window still belongs to the gap before its next order: one null
    # journey per customer and gap, so it never merges with touches after that order
    n_ord = len(ov) + 1
    key = np.where(in_window, oidx, n_ord + m["cust"].to_numpy(np.int64) * n_ord + (oidx + 1))
    _, journey = np.unique(key, return_inverse=True)
    order = np.lexsort((m["row"].to_numpy(), m["ts"].to_numpy(), journey))
    journey = journey[order]
    starts = np.r_[0, np.flatnonzero(np.diff(journey)) + 1]
    position = np.arange(len(journey)) - np.repeat(starts, np.diff(np.r_[starts, len(journey)]))
    conv = in_window[order]
    o_of = np.where(conv, oidx[order], 0)
    out = pd.DataFrame({
        "journey": journey, "position": position, "channel": m["channel"].to_numpy()[order],
        "ts": m["ts"].to_numpy()[order], "converted": conv,
        "value": np.where(conv, ov["value"].to_numpy(float)[o_of], 0.0),
        "conversion_ts": pd.Series(ov["order_ts"].to_numpy()[o_of]).where(conv).to_numpy(),
    })
    touched = np.zeros(len(ov), dtype=bool)
    touched[oidx[in_window]] = True
    if untouched == "direct":
        out = _append_direct(out, ov.loc[~touched], direct_channel)
    out.attrs["untouched_conversions"] = int((~touched).sum()) if untouched == "drop" else 0
    return out


def _append_direct(journeys: pd.DataFrame, orders: pd.DataFrame, direct_channel: str) -> pd.DataFrame:
    """Add one converting one-touch journey on ``direct_channel`` per order in ``orders``."""
    if orders.empty:
        return journeys
    first = int(journeys["journey"].max()) + 1 if len(journeys) else 0
    extra = pd.DataFrame({
        "journey": np.arange(len(orders)) + first, "position": 0, "channel": direct_channel,
        "ts": orders["order_ts"].to_numpy(), "converted": True, "value": orders["value"].to_numpy(float),
        "conversion_ts": orders["order_ts"].to_numpy()})
    return pd.concat([journeys, extra], ignore_index=True)


def path_table(journeys: pd.DataFrame) -> pd.DataFrame:
    """Aggregate a journeys frame into the path table (``PATH_COLUMNS``), most conversions first."""
    j = journeys.sort_values(["journey", "position"], kind="stable")
    jid = j["journey"].to_numpy()
    starts = np.r_[0, np.flatnonzero(np.diff(jid)) + 1] if len(jid) else np.array([], dtype=int)
    pieces = escape_channels(j["channel"].astype(str)).to_numpy(dtype=object) + PATH_SEP
    paths = pd.Series(np.add.reduceat(pieces, starts) if len(jid) else [], dtype=object).str[:-len(PATH_SEP)]
    conv = j["converted"].to_numpy(bool)[starts].astype(float)
    per = pd.DataFrame({"path": paths.to_numpy(), "conversions": conv,
                        "value": j["value"].to_numpy(float)[starts], "nulls": 1.0 - conv})
    table = per.groupby("path", sort=False)[["conversions", "value", "nulls"]].sum().reset_index()
    return table.sort_values(["conversions", "nulls", "path"], ascending=[False, False, True],
                             ignore_index=True)[PATH_COLUMNS]


def escape_channels(names: pd.Series) -> pd.Series:
    r"""Channel names as written inside a path: ``\\`` for a backslash, ``\>`` for a ``>``."""
    return names.str.replace("\\", "\\\\", regex=False).str.replace(">", "\\>", regex=False)


def join_path(channels: Sequence[str]) -> str:
    """One path string from channel names, each escaped (see :func:`escape_channels`)."""
    return PATH_SEP.join(escape_channels(pd.Series(list(channels), dtype=object).astype(str)))


_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)
_PATH_SPLIT = re.compile(r"(?<!\\)((?:\\\\)*)>")  # a `>` after an even number of backslashes


def split_path(path: str) -> list[str]:
    r"""Channels of one path string, trimmed (``"a > b"`` and ``"a>b"`` both give ``["a", "b"]``).

    ``\>`` and ``\\`` are a ``>`` and a backslash inside a channel name (``"a\>b > c"`` gives
    ``["a>b", "c"]``).
    """
    text = str(path)
    if "\\" not in text:  # the usual case: nothing escaped
        return [p.strip() for p in text.split(">") if p.strip()]
    parts = _PATH_SPLIT.sub(lambda m: m.group(1) + "\0", text).split("\0")
    return [_UNESCAPE.sub(r"\1", p).strip() for p in parts if p.strip()]


def normalize_paths(paths: pd.DataFrame, *, path_col: str = "path") -> pd.DataFrame:
    """Validate a path table and return it with the standard columns (``PATH_COLUMNS``).

    Accepts ChannelAttribution's column names; ``value`` and ``nulls`` default to 0 when absent.
    Paths are re-joined with ``" > "``; duplicate paths are summed; empty paths are dropped.
    """
    df = paths.rename(columns={**CA_COLUMNS, path_col: "path"})
    if "path" not in df.columns or "conversions" not in df.columns:
        raise InputError("a path table needs columns `path` and `conversions` (or `total_conversions`), "
                         f"but got {reprlib.repr(list(paths.columns))}")
    for col in ("value", "nulls"):
        if col not in df.columns:
            df[col] = 0.0
    df = df[PATH_COLUMNS].copy()
    for col in ("conversions", "value", "nulls"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
        bad = df.loc[df[col].isna() | (df[col] < 0), "path"]
        if len(bad):
            raise InputError(f"path table column `{col}` must hold numbers >= 0; bad rows for paths "
                             f"{reprlib.repr(list(bad.astype(str)))}")
    df["path"] = df["path"].map(lambda p: join_path(split_path(p)))
    df = df.loc[df["path"] != ""]
    return df.groupby("path", sort=False, as_index=False)[["conversions", "value", "nulls"]].sum()


def require_conversions(paths: pd.DataFrame) -> None:
    """Raise :class:`InputError` when a path table has no conversions to attribute."""
    if float(paths["conversions"].sum()) <= 0:
        raise InputError(f"the path table has no conversions ({len(paths)} paths, "
                         f"{float(paths['nulls'].sum()):.0f} null journeys): nothing to attribute")


def read_paths(path: str | Path) -> pd.DataFrame:
    """Read a path table from CSV (UTF-8 or GBK; comma, semicolon or tab, detected) or Parquet, then normalise it."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"path table file not found: {p}")
    from channelkit.io import read_input

    return normalize_paths(read_input(p, option="path table", suffixes=(".csv", ".txt", ".tsv", ".parquet", ".pq")))


def write_paths(paths: pd.DataFrame, path: str | Path) -> Path:
    """Write a path table to ``.parquet`` or CSV (by the file's suffix), atomically; return the path."""
    from channelkit.io import frame_writer, write_output

    p = Path(path)
    suffix = ".parquet" if p.suffix.lower() in (".parquet", ".pq") else ".csv"
    return write_output(p, frame_writer(paths, suffix), option="path table")


def dataset_journeys(dataset: object, *, lookback_days: float = 30, start: object = None, end: object = None,
                     untouched: str = "drop") -> pd.DataFrame:
    """Journeys of a loaded :class:`~channelkit.data.Dataset` (touchpoints + orders).

    Touches on channels that are not ``marketing`` channels of ``dataset.channels`` raise
    :class:`InputError`. ``start``/``end`` keep journeys whose touches fall in the period
    (by touch time; inclusive).
    """
    touch = dataset.require("touchpoints", analysis="attribution")
    orders = dataset.require("orders", analysis="attribution")
    ch = dataset.channels
    marketing = ch.loc[ch["kind"] == "marketing", "channel"] if "kind" in ch.columns else ch["channel"]
    if start is not None or end is not None:
        ts = pd.to_datetime(touch["ts"])
        keep = pd.Series(True, index=touch.index)
        if start is not None:
            keep &= ts >= pd.Timestamp(start)
        if end is not None:
            keep &= ts <= pd.Timestamp(end) + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
        touch = touch.loc[keep]
    return build_journeys(touch, orders, lookback_days=lookback_days, channels=list(marketing), untouched=untouched)
