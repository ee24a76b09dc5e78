"""Did the promotion pay? One row per event (and channel): incremental units, revenue and margin
with intervals, the pull-forward dip, order value, traffic and ROI.

Money conventions (per event and channel; p0 and m0 are the channel's revenue and margin per unit
on the clean pre-period days, i.e. at normal prices):
- ``incremental_revenue`` = revenue on the event days - p0 x counterfactual units;
- ``incremental_margin`` = margin on the event days - m0 x counterfactual units, where margin =
  revenue x (1 - commission) - unit cost x units: the discount is already paid for in it;
- ``lost_margin`` = m0 x units lost in the post-event dip; ``net_incremental_margin`` =
  incremental_margin - lost_margin;
- ``discount_cost`` = (shelf price - paid price) x units on the event days (what the discount gave
  away, to buyers who would have bought anyway as well);
- ``roi`` = (net_incremental_margin - spend) / (discount_cost + spend): the return on what the
  promotion invested; it paid when ``net_incremental_margin > spend``.
Intervals for money map the units interval through these formulas (p0, m0 taken as known).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from tqdm.auto import tqdm

from channelkit.errors import InputError
from channelkit.promotions.baseline import Baseline, EngineOptions
from channelkit.promotions.estimate import excluded_days, festival_effects, promotion_effect
from channelkit.promotions.frames import event_windows, require_columns
from channelkit.promotions.model import EffectFit
from channelkit.promotions.overlap import (OverlapPart, describe, festival_overlaps, festival_with_overlaps,
                                           promotion_with_overlaps, split_overlap)

RESULT_COLUMNS = [
    "event", "kind", "channel", "start", "end", "days", "method", "controls", "discount",
    "units", "baseline_units", "incremental_units", "incremental_low", "incremental_high",
    "lift", "lift_low", "lift_high",
    "post_days", "post_units", "lost_units", "lost_low", "lost_high", "post_change",
    "net_incremental_units", "net_low", "net_high",
    "revenue", "incremental_revenue", "incremental_revenue_low", "incremental_revenue_high",
    "incremental_margin", "incremental_margin_low", "incremental_margin_high", "lost_margin",
    "net_incremental_margin", "net_margin_low", "net_margin_high", "discount_cost", "spend", "roi", "paid",
    "aov_pre", "aov_event", "aov_change", "sessions_change", "spend_change", "dispersion", "note",
    "overlap", "overlap_days", "overlap_split",
]


def evaluate_promotions(daily: pd.DataFrame, events: pd.DataFrame, *, marketing: pd.DataFrame | None = None,
                        spend: pd.DataFrame | None = None, kinds: tuple[str, ...] = ("promotion", "festival"),
                        pre_days: int = 56, post_days: int = 7, min_pre_days: int = 21, level: float = 95,
                        engine: EngineOptions | None = None, progress: bool = False) -> pd.DataFrame:
    """Evaluate every event of ``kinds`` in ``events`` against its counterfactual.

    ``daily`` is :func:`channelkit.promotions.channel_daily` output (date x sales channel). Channel
    promotions use difference-in-differences against the other channels; festivals and all-channel
    promotions the forecasting engine's counterfactual per channel (trained on the days before
    the event; ``engine`` sets its models, backtest windows and jobs, default
    :class:`~channelkit.promotions.baseline.EngineOptions`) plus an ``all`` row summing the
    channels (see :mod:`channelkit.promotions.estimate`). ``marketing`` (the contract table) gives the traffic
    change (sessions and spend, all marketing channels together, event days vs clean pre-period
    days). ``spend`` (columns ``event, spend`` and optionally ``channel``) is money spent on the
    promotion itself (fees, placements), counted in ROI; 0 when not given. Defaults: 56 pre-period
    days, a 7-day post window for the dip, 95% intervals. An event that cannot be estimated gets a
    row with NaN estimates and the reason in ``note``. A channel promotion that shares days with a
    festival (or all-channel promotion) is named in ``overlap`` (with ``overlap_days``) on its row
    and on the festival's row of its channel, and the shared lift is split between the two
    (``overlap_split``: ``"log-additive"``, or ``"joint"`` when the promotion lies wholly inside the
    festival; rule in :mod:`channelkit.promotions.overlap`). Output columns: ``RESULT_COLUMNS``.
    """
    require_columns(daily, ["date", "channel", "units", "revenue", "list_value", "margin"], name="daily")
    if not 0 < level < 100:
        raise InputError(f"`level` must satisfy 0 < level < 100, but got {level!r}")
    if pre_days < min_pre_days or post_days < 0:
        raise InputError(f"`pre_days` must be >= min_pre_days ({min_pre_days}) and `post_days` >= 0, but got "
                         f"pre_days={pre_days}, post_days={post_days}")
    all_windows = event_windows(events, kinds=("promotion", "festival", "holiday"))
    dates = pd.date_range(daily["date"].min(), daily["date"].max(), freq="D")
    channels = sorted(daily["channel"].unique())
    todo = all_windows[all_windows["kind"].isin(kinds) & (all_windows["end"] >= dates[0])
                       & (all_windows["start"] <= dates[-1])]
    traffic = _traffic(marketing)
    z = stats.norm.ppf(0.5 + level / 200)
    options = {"pre_days": pre_days, "post_days": post_days, "min_pre_days": min_pre_days}
    fits = EventFits(daily, all_windows, dates=dates, channels=channels, options=options, level=level, engine=engine)
    rows: list[dict] = []
    for idx, window in tqdm(list(todo.iterrows()), disable=not progress, desc="events"):
        if window["channel"] is not None and not pd.isna(window["channel"]):
            rows.append(_promotion_row(fits, idx, z, traffic))
        else:
            channel_rows = [_festival_row(fits, idx, ch, z, traffic) for ch in channels]
            rows.extend(channel_rows)
            rows.append(_total_row(window, channel_rows, z))
    out = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    return _attach_spend(out, spend)


def _promotion_row(fits: EventFits, idx, z, traffic) -> dict:
    window = fits.windows.loc[idx]
    base = _base(window, window["channel"], "difference-in-differences")
    pairs = fits.pairs(promotion=idx)
    base["overlap"], base["overlap_days"] = describe(fits.pairs(promotion=idx, window=None), fits.windows,
                                                     side="promotion")
    if len(pairs):
        base["overlap_split"] = "joint" if pairs["inside"].iloc[0] else "log-additive"
    if base["overlap_split"] == "joint":
        return {**base, "note": f"every day of the promotion falls on festival days ({base['overlap']}): its lift "
                                f"cannot be told apart from the festival's; the festival's {window['channel']!r} "
                                "row reports the joint effect"}
    fit = fits.promotion(idx)
    if isinstance(fit, str):
        return {**base, "note": fit}
    fit, rows, controls = fit
    base["controls"] = ", ".join(controls)
    if len(pairs):
        parts = [fits.split(f, idx) for f in pairs["festival"]]
        failed = [p for p in parts if isinstance(p, str)]
        if failed:
            return {**base, "overlap_split": "joint", "note": "overlap with a festival not split: " + "; ".join(failed)}
        fit = promotion_with_overlaps(fit, parts, z)
    return {**base, **_fit_columns(fit, rows, z, fits.options["post_days"]),
            **_traffic_columns(traffic, rows, fits.excluded(idx).any(axis=1))}


def _festival_row(fits: EventFits, idx, channel: str, z, traffic) -> dict:
    window = fits.windows.loc[idx]
    base = _base(window, channel, "forecast engine")
    fit = fits.festival(idx)[channel]
    if isinstance(fit, str):
        return {**base, "note": fit}
    fit, rows, engine = fit
    base["method"] = f"forecast engine ({rows['model'].iloc[0]})"
    pairs = fits.pairs(festival=idx, channel=channel)
    base["overlap"], base["overlap_days"] = describe(fits.pairs(festival=idx, channel=channel, window=None),
                                                     fits.windows, side="festival")
    if len(pairs):
        splits = [None if inside else fits.split(idx, p) for p, inside in zip(pairs["promotion"], pairs["inside"])]
        parts = [s[0] for s in splits if s is not None and not isinstance(s, str)]
        status = (["log-additive"] if parts else []) + (["joint"] if len(parts) < len(splits) else [])
        base["overlap_split"] = "+".join(status)
        fit = festival_with_overlaps(fit, engine, parts, days=int(window["days"]), z=z)
    return {**base, **_fit_columns(fit, rows, z, fits.options["post_days"]),
            **_traffic_columns(traffic, rows, fits.excluded(idx).any(axis=1))}


def _base(window: pd.Series, channel: str, method: str) -> dict:
    return {"event": window["event"], "kind": window["kind"], "channel": channel, "start": window["start"],
            "end": window["end"], "days": int(window["days"]), "method": method, "discount": window["discount"],
            "controls": "", "note": "", "overlap": "", "overlap_days": 0, "overlap_split": ""}


class EventFits:
    """Every event's fit, computed once and shared by the rows that need it (a festival's engine
    fit serves its own rows and the split of overlapping promotions; see
    :mod:`channelkit.promotions.overlap`)."""

    def __init__(self, daily: pd.DataFrame, windows: pd.DataFrame, *, dates: pd.DatetimeIndex, channels: list[str],
                 options: dict, level: float, engine: EngineOptions | None):
        self.daily, self.windows, self.dates, self.channels = daily, windows, dates, channels
        self.options, self.level, self.engine = options, level, engine
        self.overlaps = festival_overlaps(windows, post_days=options["post_days"])
        self._cache: dict = {}

    def _once(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def pairs(self, *, promotion=None, festival=None, channel=None, window: str | None = "event") -> pd.DataFrame:
        """Overlap pairs (:func:`festival_overlaps`) of a promotion, festival and/or channel; event
        days only by default, ``window=None`` for the post windows as well."""
        ov = self.overlaps
        keep = np.ones(len(ov), dtype=bool)
        for col, value in (("promotion", promotion), ("festival", festival), ("channel", channel), ("window", window)):
            if value is not None:
                keep &= (ov[col] == value).to_numpy()
        return ov[keep]

    def excluded(self, idx) -> pd.DataFrame:
        return self._once(("excluded", idx), lambda: excluded_days(
            self.windows, idx, post_days=self.options["post_days"], dates=self.dates, channels=self.channels))

    def festival(self, idx) -> dict:
        return self._once(("festival", idx), lambda: festival_effects(
            self.daily, self.windows.loc[idx], self.excluded(idx), channels=self.channels, level=self.level,
            engine=self.engine, **self.options))

    def promotion(self, idx):
        """DiD fit of a channel promotion on its non-festival days, or the reason it failed."""
        def compute():
            fests = self.windows.loc[self.pairs(promotion=idx)["festival"]]
            drop = pd.DatetimeIndex(sorted(set().union(*(pd.date_range(a, b)
                                                          for a, b in zip(fests["start"], fests["end"])))))
            try:
                return promotion_effect(self.daily, self.windows.loc[idx], self.excluded(idx), drop_dates=drop,
                                        **self.options)
            except InputError as exc:
                return str(exc)
        return self._once(("promotion", idx), compute)

    def split(self, festival, promotion) -> tuple[OverlapPart, Baseline] | str:
        """The overlap split of one festival and promotion, or why it cannot be made."""
        def compute():
            pair = self.pairs(promotion=promotion, festival=festival).iloc[0]
            fest = self.festival(festival).get(pair["channel"], "the channel has no sales")
            promo = self.promotion(promotion)
            for name, key, fit in (("festival", festival, fest), ("promotion", promotion, promo)):
                if isinstance(fit, str):
                    return f"{name} {self.windows.loc[key, 'event']!r} cannot be estimated ({fit})"
            part = split_overlap(promo[0], fest[1], fest[2], pd.date_range(pair["start"], pair["end"]))
            return part if isinstance(part, str) else (part, fest[2])
        return self._once(("split", festival, promotion), compute)


def _fit_columns(fit: EffectFit, rows: pd.DataFrame, z: float, post_days: int) -> dict:
    phase = rows["phase"]
    pre, ev = rows[phase == "pre"], rows[phase == "event"]
    p0 = pre["revenue"].sum() / pre["units"].sum() if pre["units"].sum() > 0 else np.nan
    m0 = pre["margin"].sum() / pre["units"].sum() if pre["units"].sum() > 0 else np.nan
    rev, margin, units = ev["revenue"].sum(), ev["margin"].sum(), fit.observed
    (ilo, ihi), (llo, lhi), (nlo, nhi) = (fit.incremental.interval(z), fit.lost.interval(z), fit.net.interval(z))
    inc_margin = margin - m0 * fit.counterfactual.value
    out = {
        "units": units, "baseline_units": fit.counterfactual.value, "incremental_units": fit.incremental.value,
        "incremental_low": ilo, "incremental_high": ihi, "lift": fit.lift.value,
        "lift_low": fit.lift.interval(z)[0], "lift_high": fit.lift.interval(z)[1], "post_days": post_days,
        "post_units": fit.post_observed, "lost_units": fit.lost.value, "lost_low": llo, "lost_high": lhi,
        "post_change": fit.post_change.value, "net_incremental_units": fit.net.value, "net_low": nlo,
        "net_high": nhi, "revenue": rev, "incremental_revenue": rev - p0 * fit.counterfactual.value,
        "incremental_revenue_low": rev - p0 * (units - ilo), "incremental_revenue_high": rev - p0 * (units - ihi),
        "incremental_margin": inc_margin, "incremental_margin_low": margin - m0 * (units - ilo),
        "incremental_margin_high": margin - m0 * (units - ihi), "lost_margin": m0 * fit.lost.value,
        "net_incremental_margin": inc_margin - m0 * fit.lost.value,
        "net_margin_low": margin - m0 * (units - nlo), "net_margin_high": margin - m0 * (units - nhi),
        "discount_cost": ev["list_value"].sum() - rev, "dispersion": fit.dispersion,
    }
    if "orders" in rows and rows["orders"].notna().any():
        aov_pre = pre["revenue"].sum() / pre["orders"].sum() if pre["orders"].sum() > 0 else np.nan
        aov_ev = rev / ev["orders"].sum() if ev["orders"].sum() > 0 else np.nan
        out.update(aov_pre=aov_pre, aov_event=aov_ev, aov_change=aov_ev / aov_pre - 1)
    return out


def _traffic(marketing: pd.DataFrame | None) -> pd.DataFrame | None:
    from channelkit.promotions.frames import marketing_daily

    return marketing_daily(marketing)


def _traffic_columns(traffic: pd.DataFrame | None, rows: pd.DataFrame, any_excluded: pd.Series) -> dict:
    """Relative change of daily sessions and spend (all marketing channels): event days vs clean
    pre-period days (days of no other event)."""
    if traffic is None:
        return {}
    pre_days = rows.loc[rows["phase"] == "pre", "date"]
    pre_days = pre_days[~any_excluded.reindex(pre_days).fillna(False).to_numpy(dtype=bool)]
    ev_days = rows.loc[rows["phase"] == "event", "date"]
    out = {}
    for col, name in (("sessions", "sessions_change"), ("spend", "spend_change")):
        if col in traffic:
            before, during = traffic[col].reindex(pre_days).mean(), traffic[col].reindex(ev_days).mean()
            out[name] = during / before - 1 if before and before > 0 else np.nan
    return out


def _total_row(window: pd.Series, channel_rows: list[dict], z: float) -> dict:
    """The all-channel row of a festival: sums of the channel rows; the interval assumes the channel
    fits are independent (se = root of the summed squared se)."""
    ok = [r for r in channel_rows if not r.get("note")]
    row = _base(window, "all", "forecast engine (sum of channels)")
    hit = [r for r in channel_rows if r["overlap"]]
    row.update(overlap="; ".join(f"{r['channel']}: {r['overlap']}" for r in hit),
               overlap_days=sum(r["overlap_days"] for r in hit),
               overlap_split="+".join(dict.fromkeys(s for r in hit for s in r["overlap_split"].split("+") if s)))
    if len(ok) < len(channel_rows):
        row["note"] = "; ".join(sorted({r["note"] for r in channel_rows if r.get("note")}))
    if not ok:
        return row
    frame = pd.DataFrame(ok)
    sums = frame[["units", "baseline_units", "incremental_units", "post_units", "lost_units", "net_incremental_units",
                  "revenue", "incremental_revenue", "incremental_margin", "lost_margin", "net_incremental_margin",
                  "discount_cost"]].sum()
    row.update(sums.to_dict())
    for value, lo, hi in (("incremental_units", "incremental_low", "incremental_high"),
                          ("lost_units", "lost_low", "lost_high"), ("net_incremental_units", "net_low", "net_high"),
                          ("incremental_revenue", "incremental_revenue_low", "incremental_revenue_high"),
                          ("incremental_margin", "incremental_margin_low", "incremental_margin_high"),
                          ("net_incremental_margin", "net_margin_low", "net_margin_high")):
        se = np.sqrt((((frame[hi] - frame[lo]) / (2 * z)) ** 2).sum())
        row[lo], row[hi] = row[value] - z * se, row[value] + z * se
    cf = row["baseline_units"]
    row.update(lift=row["incremental_units"] / cf, lift_low=row["incremental_low"] / cf,
               lift_high=row["incremental_high"] / cf, post_days=ok[0]["post_days"],
               post_change=-row["lost_units"] / (row["post_units"] + row["lost_units"]),
               sessions_change=ok[0].get("sessions_change", np.nan), spend_change=ok[0].get("spend_change", np.nan))
    return row


def _attach_spend(out: pd.DataFrame, spend: pd.DataFrame | None) -> pd.DataFrame:
    out["spend"] = 0.0
    if spend is not None:
        require_columns(spend, ["event", "spend"], name="spend")
        keys = ["event", "channel"] if "channel" in spend else ["event"]
        merged = out[keys].merge(spend[keys + ["spend"]], on=keys, how="left")
        out["spend"] = merged["spend"].fillna(0.0).to_numpy(dtype=float)
    out["roi"] = (out["net_incremental_margin"] - out["spend"]) / (out["discount_cost"] + out["spend"])
    out["paid"] = (out["net_incremental_margin"] > out["spend"]).astype("boolean")
    out.loc[out["net_incremental_margin"].isna(), "paid"] = pd.NA  # not estimable: no verdict
    return out[RESULT_COLUMNS]
