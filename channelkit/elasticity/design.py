"""Panel preparation for elasticity estimation: validation, zero completion, price imputation.

The estimators work on dense ``series x period`` arrays (one row per SKU x channel, one column
per period of the panel's date grid), which turns every group-wise sum into a fast numpy
reduction. This module builds those arrays from a tidy long panel.

Conventions (documented because they change estimates):

- **Gaps.** A series is active from its first to its last row in the panel. A period inside that
  span without a row (a gap) is either a period without sales, as in an export of orders that
  lists only days with sales (``gaps="zero"``), or a period not observed, as in scanner data that
  lists zero-sale weeks itself and leaves out weeks the item was not carried (``gaps="missing"``:
  the period is left out of the fit). ``gaps="auto"`` (default) reads the panel: when at least
  ``ZERO_ROW_SHARE`` (5%) of its rows record zero units the export lists its zero-sale periods, so
  gaps are missing; otherwise gaps are zero sales. Orders-derived panels have few zero rows (only
  fully refunded days), so they get ``"zero"``.
- **Zeros.** Zero-sale periods are kept: the default estimator
  is Poisson pseudo-likelihood (PPML), whose elasticity is the coefficient on log price and which
  is consistent for a constant elasticity of *expected* units even when many periods sell nothing
  (Santos Silva & Tenreyro 2006, "The log of gravity"). Negative net units (return-heavy days)
  are clipped to 0.
- **Price on periods without sales.** An orders-derived panel has no paid price where nothing
  sold. With a ``list_price`` column the shelf price is carried forward (then backward) within
  the series and the day's discount is taken as the median observed discount of the same channel
  and period (platform promotions are channel-wide); without it the nearest observed price of the
  series is carried. Periods whose price stays unknown are dropped. An imputed price is then
  clipped into the range of prices the series was actually *paid* on its selling periods: an
  item always sold at its card price gets exactly that price on its zero periods, never a
  discounted one it never carried (which would make "lower price, no sale" perfectly predictable
  and send the slope to minus infinity).
- **Separation.** :func:`identification` measures price variation on the selling periods only: a
  series whose price varies only across periods without sales is perfectly separated (no finite
  slope fits it) and is ``not_identified``.
- **Free items.** Rows with price 0 (free gifts, samples) have no log price; they are left out
  of the model (the period is treated as not observed), counted in ``PanelArrays.n_free`` and
  reported in a warning. Negative prices are an error.
- **Controls** given by name (promotion, feature, display flags, ...) get one coefficient shared
  by all series; missing values on zero periods are filled with the channel-period mean, then 0.
"""
from __future__ import annotations

import reprlib
import warnings
from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from channelkit.errors import InputError

REQUIRED = ("date", "sku", "channel", "units", "price")
ZERO_ROW_SHARE = 0.05
Gaps = Literal["auto", "zero", "missing"]


@dataclass
class PanelArrays:
    """Dense ``series x period`` arrays of a sales panel (see the module docstring).

    ``keys`` has one row per series (columns ``sku`` and ``channel`` whatever the input names,
    which ``sku_col``/``channel_col`` remember); ``y`` units (0 off-span), ``logp`` log
    price (NaN where unknown), ``mask`` True where a period enters the fit, ``controls`` shape
    ``(K, G, T)``, ``control_names`` their names, ``dates`` the period grid, ``gaps`` how periods
    without a row were read (``"zero"`` or ``"missing"``), ``n_free`` the rows with price 0 left out.
    """

    keys: pd.DataFrame
    dates: pd.DatetimeIndex
    y: np.ndarray
    logp: np.ndarray
    mask: np.ndarray
    controls: np.ndarray
    control_names: list[str] = field(default_factory=list)
    sku_col: str = "sku"
    channel_col: str = "channel"
    gaps: str = "zero"
    n_free: int = 0

    @property
    def n_series(self) -> int:
        return int(self.y.shape[0])


def check_panel(panel: pd.DataFrame, *, columns: Sequence[str], name: str = "panel") -> None:
    """Raise :class:`InputError` naming the missing columns or bad values of ``panel``."""
    if not isinstance(panel, pd.DataFrame):
        raise InputError(f"`{name}` must be a pandas DataFrame, but got {type(panel).__name__}")
    missing = [c for c in columns if c not in panel.columns]
    if missing:
        raise InputError(f"`{name}` lacks the column(s) {missing}; it has {reprlib.repr(list(panel.columns))}")
    if panel.empty:
        raise InputError(f"`{name}` has no rows")


def _check_values(panel: pd.DataFrame, *, units_col: str, price_col: str) -> None:
    for col in (units_col, price_col):
        if not pd.api.types.is_numeric_dtype(panel[col]):
            bad = panel[col][pd.to_numeric(panel[col], errors="coerce").isna() & panel[col].notna()]
            raise InputError(f"column `{col}` must be numeric, but has values like {reprlib.repr(bad.unique()[:5].tolist())}")
    bad_price = panel.loc[panel[price_col] < 0, price_col]
    if len(bad_price):
        raise InputError(f"column `{price_col}` must be >= 0 (0: a free item, left out), but has {len(bad_price)} "
                         f"values like {reprlib.repr(bad_price.unique()[:5].tolist())}")


def free_rows(panel: pd.DataFrame, *, price_col: str = "price") -> pd.Series:
    """True on rows whose price is 0 (free items): no log price, so no log-price model can use them."""
    return pd.to_numeric(panel[price_col], errors="coerce").eq(0)


def drop_free(panel: pd.DataFrame, *, price_col: str = "price", what: str = "the log-price model") -> tuple[pd.DataFrame, int]:
    """``panel`` without its price-0 rows and their count; warns with the count when there are any."""
    free = free_rows(panel, price_col=price_col)
    n = int(free.sum())
    if n:
        warnings.warn(f"{n} rows with `{price_col}` 0 (free items) are left out of {what}: a free item has no "
                      f"log price", UserWarning, stacklevel=3)
    return (panel.loc[~free] if n else panel), n


def _ffill_bfill(a: np.ndarray) -> np.ndarray:
    """Carry the last non-NaN value forward along axis 1, then the next one backward."""
    out = pd.DataFrame(a).ffill(axis=1).bfill(axis=1).to_numpy()
    return out


def _impute_prices(long: pd.DataFrame, price: np.ndarray, listp: np.ndarray | None,
                   g: np.ndarray, t: np.ndarray, channel_codes: np.ndarray) -> np.ndarray:
    """Fill unknown prices: shelf price x (1 - channel-period median discount), else nearest price."""
    if listp is None:
        return np.where(np.isnan(price), _ffill_bfill(price), price)
    shelf = _ffill_bfill(listp)
    disc = 1.0 - long["_price"] / long["_list"]
    frame = pd.DataFrame({"c": channel_codes[g], "t": t, "d": disc.to_numpy()}).dropna()
    med = frame.groupby(["c", "t"])["d"].median()
    table = np.zeros((channel_codes.max() + 1, price.shape[1]))
    table[med.index.get_level_values(0), med.index.get_level_values(1)] = med.to_numpy()
    imputed = shelf * (1.0 - np.clip(table[channel_codes], 0.0, 0.95))
    return np.where(np.isnan(price), imputed, price)


def _clip_to_paid(filled: np.ndarray, observed: np.ndarray, paid: np.ndarray) -> np.ndarray:
    """Cells without an ``observed`` price clipped into each series' range of ``paid`` prices (prices
    on selling periods; module docstring: separation); observed prices are kept as they are."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows (no paid price) stay unclipped
        lo, hi = np.nanmin(paid, axis=1), np.nanmax(paid, axis=1)
    lo, hi = np.where(np.isnan(lo), -np.inf, lo), np.where(np.isnan(hi), np.inf, hi)
    clipped = np.clip(filled, lo[:, None], hi[:, None])
    return np.where(np.isnan(observed), clipped, observed)


def _fill_controls(values: np.ndarray, channel_codes: np.ndarray) -> np.ndarray:
    """Fill NaN control cells with the mean of the same channel and period, then with 0."""
    out = values.copy()
    for c in np.unique(channel_codes):
        rows = channel_codes == c
        block = out[rows]
        if np.isnan(block).any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nan_to_num(np.nanmean(block, axis=0), nan=0.0)
            out[rows] = np.where(np.isnan(block), mean[None, :], block)
    return np.nan_to_num(out, nan=0.0)


def prepare_panel(
    panel: pd.DataFrame,
    *,
    controls: Sequence[str] = (),
    date_col: str = "date",
    sku_col: str = "sku",
    channel_col: str = "channel",
    units_col: str = "units",
    price_col: str = "price",
    list_price_col: str = "list_price",
    impute_price: bool = True,
    series_attrs: Sequence[str] = (),
    gaps: Gaps = "auto",
) -> PanelArrays:
    """Dense arrays of a tidy daily or weekly panel (conventions in the module docstring).

    ``series_attrs`` names columns constant within a series (e.g. ``category``) to carry into
    ``keys`` (first value per series). Duplicate ``(date, sku, channel)`` rows are summed (units) and unit-weighted (price).
    ``gaps`` says what a period without a row means (module docstring).
    Raises :class:`InputError` on missing columns, non-numeric or non-positive prices.
    """
    if gaps not in ("auto", "zero", "missing"):
        raise InputError(f"`gaps` must be 'auto', 'zero' or 'missing', but got {gaps!r}")
    series_attrs = [a for a in series_attrs if a not in (sku_col, channel_col)]
    cols = [date_col, sku_col, channel_col, units_col, price_col, *controls, *series_attrs]
    check_panel(panel, columns=cols)
    _check_values(panel, units_col=units_col, price_col=price_col)
    free = free_rows(panel, price_col=price_col)
    n_free = int(free.sum())
    if n_free:
        warnings.warn(f"{n_free} rows with `{price_col}` 0 (free items) are left out of the log-price model: a "
                      f"free item has no log price; their periods count as not observed", UserWarning, stacklevel=3)
    has_list = list_price_col in panel.columns and panel[list_price_col].notna().any()
    long = pd.DataFrame({
        "date": pd.to_datetime(panel[date_col]).to_numpy(),
        "sku": panel[sku_col].astype(str).to_numpy(), "channel": panel[channel_col].astype(str).to_numpy(),
        "_units": pd.to_numeric(panel[units_col]).astype(float).to_numpy(),
        "_price": pd.to_numeric(panel[price_col]).astype(float).where(~free).to_numpy(),
        "_list": (pd.to_numeric(panel[list_price_col]).astype(float).to_numpy() if has_list else np.nan),
    })
    for i, c in enumerate(controls):
        long[f"_c{i}"] = pd.to_numeric(panel[c], errors="coerce").astype(float).to_numpy()
    long = _dedupe(long, n_controls=len(controls))
    keys, g = _factor_keys(long)
    dates = pd.DatetimeIndex(np.sort(long["date"].unique()))
    t = dates.get_indexer(long["date"])
    shape = (len(keys), len(dates))

    def dense(values: np.ndarray) -> np.ndarray:
        a = np.full(shape, np.nan)
        a[g, t] = values
        return a

    units = dense(np.clip(long["_units"].to_numpy(), 0.0, None))
    first = np.full(shape[0], shape[1]); np.minimum.at(first, g, t)
    last = np.zeros(shape[0], dtype=int); np.maximum.at(last, g, t)
    cols_t = np.arange(shape[1])[None, :]
    active = (cols_t >= first[:, None]) & (cols_t <= last[:, None])
    if gaps == "auto":
        gaps = "missing" if float((long["_units"] <= 0).mean()) >= ZERO_ROW_SHARE else "zero"
    if gaps == "zero":
        units = np.where(active & np.isnan(units), 0.0, units)
    price = dense(long["_price"].to_numpy())
    is_free = np.zeros(shape, dtype=bool)
    if n_free:  # a free row is a period not observed, never a zero-sale period with an imputed price
        is_free[g, t] = np.isnan(long["_price"].to_numpy())
        units = np.where(is_free, np.nan, units)
    channel_codes = pd.factorize(keys["channel"])[0]
    if impute_price:
        listp = dense(long["_list"].to_numpy()) if has_list else None
        paid = np.where(units > 0, price, np.nan)  # prices at which the series actually sold
        price = _clip_to_paid(_impute_prices(long, price, listp, g, t, channel_codes), price, paid)
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.log(price)
    mask = active & np.isfinite(logp) & np.isfinite(units) & ~is_free
    ctrl = np.stack([_fill_controls(dense(long[f"_c{i}"].to_numpy()), channel_codes)
                     for i in range(len(controls))]) if controls else np.zeros((0, *shape))
    y = np.where(mask, units, 0.0)
    for a in series_attrs:
        first_val = pd.Series(panel[a].to_numpy()).groupby(
            pd.MultiIndex.from_arrays([panel[sku_col].astype(str), panel[channel_col].astype(str)])).first()
        keys[a] = first_val.reindex(pd.MultiIndex.from_frame(keys[["sku", "channel"]])).to_numpy()
    return PanelArrays(keys=keys, dates=dates, y=y, logp=np.where(mask, logp, np.nan), mask=mask,
                       controls=ctrl, control_names=list(controls), sku_col=sku_col, channel_col=channel_col,
                       gaps=gaps, n_free=n_free)


def _dedupe(long: pd.DataFrame, *, n_controls: int) -> pd.DataFrame:
    """Sum units and unit-weight prices of duplicate (date, sku, channel) rows."""
    if not long.duplicated(["date", "sku", "channel"]).any():
        return long
    long = long.assign(_rev=long["_price"] * long["_units"].clip(lower=0),
                       _lrev=long["_list"] * long["_units"].clip(lower=0))
    agg = {"_units": "sum", "_rev": "sum", "_lrev": "sum", "_price": "mean", "_list": "mean"}
    agg.update({f"_c{i}": "mean" for i in range(n_controls)})
    out = long.groupby(["date", "sku", "channel"], as_index=False).agg(agg)
    pos = out["_units"] > 0
    out.loc[pos, "_price"] = out.loc[pos, "_rev"] / out.loc[pos, "_units"]
    out.loc[pos & out["_lrev"].notna(), "_list"] = out["_lrev"] / out["_units"]
    return out.drop(columns=["_rev", "_lrev"])


def _factor_keys(long: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Series keys sorted by channel then SKU (rows of one channel are contiguous) and row codes."""
    keys = long[["sku", "channel"]].drop_duplicates().sort_values(["channel", "sku"]).reset_index(drop=True)
    index = pd.MultiIndex.from_frame(keys)
    g = index.get_indexer(pd.MultiIndex.from_frame(long[["sku", "channel"]]))
    return keys, g


def identification(
    arrays: PanelArrays,
    *,
    min_obs: int = 20,
    min_positive: int = 5,
    min_price_sd: float = 0.01,
) -> pd.DataFrame:
    """Per-series identification check: one row per series with its status and diagnostics.

    Columns: the key columns, ``n_obs`` (periods in the fit), ``n_positive`` (periods with
    sales), ``units`` (total), ``price_sd`` (standard deviation of log price within the series)
    and ``status``: ``no_sales`` (no unit sold), ``too_few_obs`` (fewer than ``min_obs`` periods
    or ``min_positive`` selling periods), ``not_identified`` (``price_sd < min_price_sd``, a single
    price level on the selling periods, or a log-price sd below ``min_price_sd / 2`` on them: the
    data cannot tell price response from the series' level, or the price varies only where
    nothing sold, which separates the data) or ``ok``.
    """
    m = arrays.mask
    n_obs = m.sum(axis=1)
    n_pos = ((arrays.y > 0) & m).sum(axis=1)
    selling = m & (arrays.y > 0)  # price variation on zero periods alone separates (module docstring)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sd = np.nanstd(np.where(m, arrays.logp, np.nan), axis=1)
        sd_selling = np.nanstd(np.where(selling, arrays.logp, np.nan), axis=1)
        levels = pd.DataFrame(np.round(np.where(selling, arrays.logp, np.nan), 6)).nunique(axis=1).to_numpy()
    units = arrays.y.sum(axis=1)
    status = np.select(
        [units <= 0, (n_obs < min_obs) | (n_pos < min_positive),
         (np.nan_to_num(sd) < min_price_sd) | (np.nan_to_num(sd_selling) < min_price_sd / 2) | (levels < 2)],
        ["no_sales", "too_few_obs", "not_identified"], default="ok")
    out = arrays.keys.copy()
    out["n_obs"], out["n_positive"], out["units"] = n_obs, n_pos, units
    out["price_sd"], out["status"] = sd, status
    return out


def calendar_controls(dates: pd.DatetimeIndex, *, fourier_order: int = 2) -> pd.DataFrame:
    """Shared calendar controls for fits without period fixed effects, one row per period.

    Day-of-week dummies (daily grids only, Monday the base), ``fourier_order`` yearly sine/cosine
    pairs, a linear trend in years, and one dummy per festival phase of
    :func:`channelkit.data.calendar.festival_calendar` plus one for public holidays (daily grids).
    Constant columns are dropped.
    """
    from channelkit.data.calendar import festival_calendar, public_holidays

    out = pd.DataFrame(index=dates)
    daily = len(dates) > 1 and pd.Series(dates).diff().dropna().min() <= pd.Timedelta(days=1)
    if daily:
        for d in range(1, 7):
            out[f"dow_{d}"] = (dates.dayofweek == d).astype(float)
    doy = 2 * np.pi * dates.dayofyear.to_numpy() / 365.25
    for k in range(1, fourier_order + 1):
        out[f"year_sin{k}"], out[f"year_cos{k}"] = np.sin(k * doy), np.cos(k * doy)
    out["trend"] = (dates - dates[0]).days.to_numpy() / 365.25
    span_end = dates[-1] + pd.Timedelta(days=6)
    fest = festival_calendar(dates[0], span_end)
    if not daily:  # weekly grid: a festival phase counts in the week that contains it
        fest = fest.assign(date=fest["date"] - pd.to_timedelta(fest["date"].dt.dayofweek, unit="D"))
    for (event, phase), rows in fest.groupby(["event", "phase"]):
        out[f"fest_{event}_{phase}"] = dates.isin(rows["date"]).astype(float)
    if daily:
        out["holiday"] = dates.isin(public_holidays(dates[0], dates[-1])["date"]).astype(float)
    return out.loc[:, out.std() > 0]
