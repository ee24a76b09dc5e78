"""Festivals that overlap channel promotions: detection, and a split of the shared lift so that no
unit is counted twice.

The problem. A brand's own coupon on Tmall during 11.11 lifts Tmall on days the festival lifts
every channel. The festival's counterfactual (the forecasting engine, trained on days before the
festival) then counts the coupon's extra units as festival lift, and the promotion's
difference-in-differences counts them again. On the overlap days the promotion's DiD is not even
identified: its control channels carry *their own* festival multipliers, which differ from the
promoted channel's (a festival lifts marketplaces more than stores), so "moved like the controls"
no longer holds.

The rule (per channel and overlapping pair; ``m`` are multipliers of expected daily units).
1. *Promotion multiplier* ``m_p``: from the promotion's DiD on its days *outside* the festival
   (festival days are left out of its fit for the promoted channel), ``m_p = A_nf / CF_nf`` (units
   over counterfactual on those days). ``var(log m_p) = (se_lift / m_p)^2 + phi / A_nf``: the fit's
   counterfactual uncertainty plus the quasi-Poisson noise (dispersion ``phi``) of the days' units.
2. *Total multiplier* on the overlap days ``O``: ``m_t = A_O / CF_O``, actual units over the
   festival's engine counterfactual (which counts neither event), so ``A_O - CF_O`` is the joint
   lift of both events, and under the multiplicative model ``m_t = m_p x m_f``.
3. *Split* by the logarithmic-mean Divisia index (LMDI-I, Ang 2004, the standard exact
   decomposition of a change of a product; the log-additive split of multiplicative MMMs):
   ``promotion part = L(A_O, CF_O) x log m_p`` and ``festival part = L(A_O, CF_O) x log(m_t / m_p)``
   with ``L(a, b) = (a - b) / (log a - log b)`` (``L(a, a) = a``). The parts sum to ``A_O - CF_O``
   exactly, do not depend on which event is taken "first", and equal the promotion share
   ``log m_p / log m_t`` of the joint lift (well defined also when ``m_t = 1``). With constant
   multipliers the split of the summed overlap days equals the sum of the daily splits.
4. *Rows.* The promotion reports its DiD lift on its non-festival days plus its overlap part; the
   festival's row of that channel reports its engine lift minus the promotion parts. So the two
   rows together count the overlap days' joint lift once.
5. *Intervals* reflect both fits. The engine's uncertainty enters through the counterfactual
   ``CF_O`` (``d part / d CF_O``), measured as the backtest error of the same weighted window sum
   (:meth:`~channelkit.promotions.baseline.Baseline.half_width`); the DiD's through ``log m_p``
   (``d part / d log m_p = L``). The two fits use disjoint data and are taken as independent;
   the promotion's non-festival lift and ``m_p`` come from one fit and are taken as perfectly
   correlated (their standard errors add: an upper bound).
6. *No split.* A promotion whose every day falls on festival days has no day to learn ``m_p``
   from: its own row gives no estimate (note says why), ``overlap_split = "joint"``, and the
   festival's row of that channel reports the joint effect of both, also marked ``"joint"``.
   The same happens when one of the two fits failed or a multiplier is not positive.
Only event days are split. Promotion days in a festival's post window (its ``post_days`` after the
end) are named too: the festival's dip is measured without them (the promotion's own row counts
them; its DiD keeps them, the day effects absorbing a dip the channels share). Holidays (not
evaluated by default) are not treated as overlaps.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from channelkit.promotions.baseline import Baseline
from channelkit.promotions.model import EffectFit, Estimate

OVERLAP_COLUMNS = ["festival", "promotion", "channel", "window", "start", "end", "days", "inside"]


def _is_all_channel(windows: pd.DataFrame) -> np.ndarray:
    return windows["channel"].isna().to_numpy() & windows["kind"].isin(["festival", "promotion"]).to_numpy()


def festival_overlaps(windows: pd.DataFrame, *, post_days: int = 0) -> pd.DataFrame:
    """Pairs of an all-channel event (festival or all-channel promotion) and a channel promotion
    with days in common: ``festival, promotion`` (index labels of ``windows``, the
    :func:`~channelkit.promotions.event_windows` frame), ``channel``, ``window`` (``"event"``: the
    festival's own days; ``"post"``: its ``post_days`` after, listed when ``post_days > 0``),
    ``start, end, days`` of the common days and ``inside`` (every day of the promotion falls on
    event days of all-channel events)."""
    fests = windows[_is_all_channel(windows)]
    promos = windows[windows["channel"].notna()]
    if fests.empty or promos.empty:
        return pd.DataFrame(columns=OVERLAP_COLUMNS)
    cross = promos.reset_index(names="promotion").merge(fests.reset_index(names="festival"), how="cross",
                                                        suffixes=("_p", "_f"))
    frames = []
    for window, lo, hi in (("event", cross["start_f"], cross["end_f"]),
                           ("post", cross["end_f"] + pd.Timedelta(days=1),
                            cross["end_f"] + pd.Timedelta(days=post_days))):
        start, end = np.maximum(cross["start_p"], lo), np.minimum(cross["end_p"], hi)
        frames.append(cross.assign(window=window, start=start, end=end, days=(end - start).dt.days + 1,
                                   channel=cross["channel_p"]))
    pairs = pd.concat(frames, ignore_index=True)
    pairs = pairs[pairs["days"] > 0]
    event = pairs[pairs["window"] == "event"]
    covered = {p: len(set().union(*(pd.date_range(a, b) for a, b in zip(g["start"], g["end"]))))
               for p, g in event.groupby("promotion")}
    pairs = pairs.assign(inside=[covered.get(p, 0) >= n for p, n in zip(pairs["promotion"], pairs["days_p"])])
    return pairs[OVERLAP_COLUMNS].reset_index(drop=True)


def log_mean(a: float, b: float) -> float:
    """Logarithmic mean ``(a - b) / (log a - log b)``, ``a`` when ``a == b`` (a, b > 0)."""
    d = np.log(a) - np.log(b)
    return float(a) if abs(d) < 1e-12 else float((a - b) / d)


def _log_mean_slope_b(a: float, b: float) -> float:
    """d L(a, b) / d b = (L / b - 1) / (log a - log b); 1/2 in the limit a = b."""
    d = np.log(a) - np.log(b)
    return 0.5 if abs(d) < 1e-9 else float((log_mean(a, b) / b - 1.0) / d)


def promotion_multiplier(fit: EffectFit) -> tuple[float, float]:
    """``(log m_p, se)`` of a promotion's DiD fit on its non-festival days (rule 1 of the module
    docstring); NaN when the fit has no positive units or counterfactual."""
    m = 1.0 + fit.lift.value
    if not (fit.observed > 0 and m > 0 and np.isfinite(m)):
        return np.nan, np.nan
    phi = fit.dispersion if np.isfinite(fit.dispersion) else 1.0
    return float(np.log(m)), float(np.sqrt((fit.lift.se / m) ** 2 + phi / fit.observed))


@dataclass(frozen=True)
class OverlapPart:
    """One promotion's share of the joint lift on its overlap days with one festival (one channel):
    ``observed`` A_O and engine ``counterfactual`` CF_O, ``log_promo`` (log m_p, se
    ``se_log_promo``), the ``promotion`` part, ``mean`` L(A_O, CF_O) = d part / d log m_p,
    ``slope`` = d part / d CF_O, and ``position`` the overlap days' index in the engine horizon."""

    observed: float
    counterfactual: float
    log_promo: float
    se_log_promo: float
    promotion: float
    mean: float
    slope: float
    position: np.ndarray

    @property
    def festival(self) -> float:
        """The festival's part: joint lift minus the promotion's part."""
        return self.observed - self.counterfactual - self.promotion


def split_overlap(promo_fit: EffectFit, rows: pd.DataFrame, base: Baseline,
                  dates: pd.DatetimeIndex) -> OverlapPart | str:
    """Split the joint lift of ``dates`` (the overlap days) between a promotion (its DiD fit on
    non-festival days ``promo_fit``) and a festival (its window ``rows`` and engine ``base`` for the
    promoted channel) by rule 3 of the module docstring; the reason as a string when it cannot."""
    log_m, se_log = promotion_multiplier(promo_fit)
    fc = base.daily.set_index("date")["forecast"]
    observed = float(rows.loc[rows["date"].isin(dates), "units"].sum())
    cf = float(fc.reindex(dates).sum())
    if not np.isfinite(log_m):
        return "the promotion has no positive units on its non-festival days"
    if not (observed > 0 and cf > 0):
        return (f"no positive units or counterfactual on the overlap days (units {observed:.0f}, "
                f"counterfactual {cf:.1f})")
    mean = log_mean(observed, cf)
    return OverlapPart(observed=observed, counterfactual=cf, log_promo=log_m, se_log_promo=se_log,
                       promotion=mean * log_m, mean=mean, slope=log_m * _log_mean_slope_b(observed, cf),
                       position=base.daily["date"].searchsorted(dates))


def _weights(base: Baseline, part: OverlapPart, scale: float) -> np.ndarray:
    w = np.zeros(len(base.daily))
    w[part.position] = scale
    return w


def promotion_with_overlaps(fit: EffectFit, parts: list[tuple[OverlapPart, Baseline]], z: float) -> EffectFit:
    """The promotion's :class:`EffectFit` over all its event days: its DiD ``fit`` on non-festival
    days plus each overlap's promotion part (rules 4-5 of the module docstring). The post window
    stays the DiD's (non-festival post days)."""
    observed = fit.observed + sum(p.observed for p, _ in parts)
    inc = fit.incremental.value + sum(p.promotion for p, _ in parts)
    se_did = fit.incremental.se + sum(p.mean * p.se_log_promo for p, _ in parts)
    var_engine = sum((b.half_width(_weights(b, p, p.slope)) / z) ** 2 for p, b in parts)
    se = float(np.sqrt(se_did ** 2 + var_engine))
    return _with_incremental(fit, observed, inc, se)


def festival_with_overlaps(fit: EffectFit, base: Baseline, parts: list[OverlapPart], *, days: int,
                           z: float) -> EffectFit:
    """The festival's :class:`EffectFit` of one channel without the overlapping promotions' parts
    (rules 4-5 of the module docstring): its engine lift minus each promotion part, with the
    engine's interval of the weighted window sum (weight 1 + d part / d CF on overlap days) and
    the promotions' log m_p uncertainty added as independent."""
    if not parts:
        return fit
    weights = np.r_[np.ones(days), np.zeros(len(base.daily) - days)]
    for part in parts:
        weights[part.position] += part.slope
    inc = fit.incremental.value - sum(p.promotion for p in parts)
    var_did = sum((p.mean * p.se_log_promo) ** 2 for p in parts)
    se = float(np.sqrt((base.half_width(weights) / z) ** 2 + var_did))
    return _with_incremental(fit, fit.observed, inc, se)


def _with_incremental(fit: EffectFit, observed: float, inc: float, se: float) -> EffectFit:
    """``fit`` with new event-day sums. With the units observed, counterfactual = observed - inc and
    lift = inc / (observed - inc), so se(lift) = se x observed / counterfactual^2 (delta method);
    ``net`` keeps the post window's own variance and adds the new event-day variance in place of
    the old (treated as independent of the post window)."""
    cf = observed - inc
    net_var = max(fit.net.se ** 2 - fit.incremental.se ** 2, 0.0) + se ** 2
    return EffectFit(observed=observed, incremental=Estimate(inc, se), counterfactual=Estimate(cf, se),
                     lift=Estimate(inc / cf if cf > 0 else np.nan, se * observed / cf ** 2 if cf > 0 else np.nan),
                     post_observed=fit.post_observed, lost=fit.lost, post_change=fit.post_change,
                     net=Estimate(inc - fit.lost.value, float(np.sqrt(net_var))), dispersion=fit.dispersion,
                     n_obs=fit.n_obs)


def describe(overlaps: pd.DataFrame, windows: pd.DataFrame, *, side: str) -> tuple[str, int]:
    """Text for the ``overlap`` column and the overlap days (event days in common): the other
    events of ``overlaps`` (rows of one promotion, ``side="promotion"``: name its festivals; of one
    festival and channel, ``side="festival"``: name its promotions) as ``name start..end (n days)``;
    common days in the festival's post window are marked as such (not split; the festival's dip
    leaves them out)."""
    other = "festival" if side == "promotion" else "promotion"
    names = []
    for _, r in overlaps.iterrows():
        where = "" if r["window"] == "event" else (" post window" if side == "promotion" else "")
        tail = "" if r["window"] == "event" else ("" if side == "promotion" else ", after it: left out of its dip")
        names.append(f"{windows.loc[r[other], 'event']}{where} {r['start']:%Y-%m-%d}..{r['end']:%Y-%m-%d} "
                     f"({r['days']} days{tail})")
    return "; ".join(names), int(overlaps.loc[overlaps["window"] == "event", "days"].sum())
