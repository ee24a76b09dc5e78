"""Calendar effects on demand: weekly profile, yearly season and festival multipliers.

All effects are multiplicative on expected daily units and drawn once per seed:

- weekly: one Monday..Sunday profile per sales channel, mean 1 (offline stores busiest on weekends);
- yearly: per category ``exp(amplitude * cos(2 pi (doy - peak_day) / 365.25))``;
- festivals (from :func:`channelkit.data.calendar.festival_calendar`): each event has one multiplier
  per phase for the marketplace reference (``truth["festivals"]``); a channel's multiplier is the
  reference raised to its exposure (``truth["festival_channel_multipliers"]`` holds the results).
  Pre-sale (and Spring Festival ``pre``) days ramp up geometrically: on the day ``k`` days into an
  ``n``-day pre-sale window (k = 1..n) the multiplier is ``m ** (k / n)``, reaching ``m`` on the day
  before the peak. Overlapping events multiply. Online channels also cut prices during pre-sale and
  peak days of the shopping festivals (festival discounts, drawn per event, year and channel).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from channelkit.data.calendar import SHOPPING_FESTIVALS, festival_calendar

# Monday..Sunday templates; a small seeded perturbation is applied, then the mean is set to 1.
WEEKLY_TEMPLATE = {
    "tmall": (0.98, 0.96, 0.96, 0.97, 1.00, 1.07, 1.06),
    "jd": (1.02, 1.00, 0.99, 1.00, 1.01, 1.00, 0.98),
    "douyin_live": (0.92, 0.94, 0.95, 0.98, 1.05, 1.10, 1.06),
    "own_app": (1.00, 0.99, 0.98, 0.99, 1.00, 1.03, 1.01),
    "offline_stores": (0.80, 0.79, 0.82, 0.86, 1.02, 1.38, 1.33),
}
# category -> (typical yearly amplitude, typical peak day of year)
YEARLY_TEMPLATE = {"tea": (0.20, 100), "snacks": (0.18, 20), "skincare": (0.22, 190), "home": (0.12, 290)}

# Reference (marketplace) multipliers per event and phase; each is perturbed by exp(N(0, 0.08)).
FESTIVAL_TEMPLATE = {
    "spring_festival": {"pre": 1.45, "pause": 0.22, "after": 0.85},
    "womens_day_38": {"presale": 1.12, "peak": 1.7},
    "618": {"presale": 1.45, "peak": 3.6, "after": 1.35},
    "99": {"presale": 1.1, "peak": 1.5},
    "double11": {"presale": 1.8, "peak": 6.0, "after": 1.6},
    "double12": {"presale": 1.2, "peak": 2.2},
}
# Exposure of each channel (exponent on the reference multiplier): shopping festivals are an online
# affair; the courier pause hits every online channel, while stores see the pre-holiday rush and
# close only for a few days.
SHOPPING_EXPOSURE = {"tmall": 1.0, "jd": 1.0, "douyin_live": 1.1, "own_app": 0.6, "offline_stores": 0.2}
SPRING_EXPOSURE = {
    "tmall": {"pre": 1.0, "pause": 1.0, "after": 1.0},
    "jd": {"pre": 1.0, "pause": 1.0, "after": 1.0},
    "douyin_live": {"pre": 1.0, "pause": 1.0, "after": 1.0},
    "own_app": {"pre": 0.8, "pause": 1.0, "after": 1.0},
    "offline_stores": {"pre": 1.3, "pause": 0.4, "after": 0.5},
}
# Festival price cuts online (uniform range of the discount share), on pre-sale and peak days.
FESTIVAL_DISCOUNT = {"womens_day_38": (0.05, 0.12), "618": (0.10, 0.22), "99": (0.05, 0.12),
                     "double11": (0.15, 0.28), "double12": (0.08, 0.18)}
ONLINE = ("tmall", "jd", "douyin_live", "own_app")
_PRESALE_DAYS = {name: pre for name, _, _, pre, _ in SHOPPING_FESTIVALS}


@dataclass(frozen=True)
class CalendarEffects:
    """Arrays over (channel, day) and (category, day), plus the truth they came from."""

    weekly: np.ndarray  # (C, 7)
    yearly: np.ndarray  # (K, D)
    festival: np.ndarray  # (C, D) product of festival multipliers
    festival_discount: np.ndarray  # (C, D) price cut share on festival days (0 elsewhere)
    festival_days: np.ndarray  # (D,) bool: any festival phase on this day
    truth: dict


def draw_weekly(rng: np.random.Generator, channels: list[str]) -> np.ndarray:
    """Monday..Sunday multipliers per channel (rows), each row with mean 1."""
    base = np.array([WEEKLY_TEMPLATE[c] for c in channels])
    w = base * np.exp(rng.normal(0.0, 0.02, base.shape))
    return np.round(w / w.mean(axis=1, keepdims=True), 4)


def draw_yearly(rng: np.random.Generator, categories: list[str]) -> tuple[dict, dict]:
    """Per category amplitude and peak day of the yearly cycle."""
    amp, peak = {}, {}
    for c in categories:
        a, p = YEARLY_TEMPLATE[c]
        amp[c] = round(float(a * rng.uniform(0.8, 1.2)), 4)
        peak[c] = int((p + rng.integers(-15, 16)) % 365)
    return amp, peak


def yearly_matrix(dates: pd.DatetimeIndex, categories: list[str], amp: dict, peak: dict) -> np.ndarray:
    """``exp(amplitude * cos(2 pi (doy - peak) / 365.25))`` per category (rows) and day."""
    doy = dates.dayofyear.to_numpy()
    return np.vstack([np.exp(amp[c] * np.cos(2 * np.pi * (doy - peak[c]) / 365.25)) for c in categories])


def draw_festivals(rng: np.random.Generator) -> dict:
    """Reference multipliers {event: {phase: m}}; each template value times exp(N(0, 0.08))."""
    out: dict[str, dict[str, float]] = {}
    for event, phases in FESTIVAL_TEMPLATE.items():
        out[event] = {ph: round(float(m * np.exp(rng.normal(0.0, 0.08))), 4) for ph, m in phases.items()}
    return out


def channel_multipliers(reference: dict, channels: list[str]) -> dict:
    """{channel: {event: {phase: m}}}: the reference raised to each channel's exposure."""
    out: dict = {}
    for ch in channels:
        out[ch] = {}
        for event, phases in reference.items():
            if event == "spring_festival":
                expo = SPRING_EXPOSURE[ch]
                out[ch][event] = {ph: round(m ** expo[ph], 4) for ph, m in phases.items()}
            else:
                out[ch][event] = {ph: round(m ** SHOPPING_EXPOSURE[ch], 4) for ph, m in phases.items()}
    return out


def _ramp(event: str, offset: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """Exponent on the phase multiplier: 1 on flat phases, ``k / n`` on the k-th of n ramp days."""
    out = np.ones(len(offset))
    ramp_phase = "pre" if event == "spring_festival" else "presale"
    sel = phase == ramp_phase
    if sel.any():
        # every year has the same offsets, so the window's first offset and length are shared
        first, last = offset[sel].min(), offset[sel].max()
        out[sel] = (offset[sel] - first + 1) / (last - first + 1)
    return out


def _festival_discounts(rng: np.random.Generator, rows: pd.DataFrame, days: np.ndarray,
                        channels: list[str], discount: np.ndarray) -> list[dict]:
    """Fill ``discount`` on pre-sale and peak days of one shopping festival, online channels only."""
    lo, hi = FESTIVAL_DISCOUNT[rows["event"].iloc[0]]
    cut = rows["phase"].to_numpy() != "after"
    years = rows["date"].dt.year.to_numpy()
    truth = []
    for year in np.unique(years):
        sel = cut & (years == year)
        dates = rows["date"][sel]
        for ci, ch in enumerate(channels):
            if ch not in ONLINE:
                continue
            d = round(float(rng.uniform(lo, hi)), 2)
            discount[ci, days[sel]] = d
            truth.append({"event": rows["event"].iloc[0], "year": int(year), "channel": ch, "discount": d,
                          "start": str(dates.min().date()), "end": str(dates.max().date())})
    return truth


def draw_calendar_effects(rng: np.random.Generator, dates: pd.DatetimeIndex, channels: list[str],
                          categories: list[str]) -> CalendarEffects:
    """Draw every calendar effect and lay it out as arrays over channels/categories and days."""
    weekly = draw_weekly(rng, channels)
    amp, peak = draw_yearly(rng, categories)
    cal = festival_calendar(dates[0], dates[-1])
    reference = draw_festivals(rng)
    per_channel = channel_multipliers(reference, channels)
    day_idx = dates.get_indexer(cal["date"])
    log_mult = np.zeros((len(channels), len(dates)))
    discount = np.zeros((len(channels), len(dates)))
    discounts_truth: list[dict] = []
    for event, rows in cal.groupby("event", sort=True):
        phase = rows["phase"].to_numpy()
        days = day_idx[rows.index.to_numpy()]
        ramp = _ramp(str(event), rows["offset"].to_numpy(), phase)
        for ci, ch in enumerate(channels):
            m = np.array([per_channel[ch][event][p] for p in phase])
            log_mult[ci, days] += ramp * np.log(m)
        if event in FESTIVAL_DISCOUNT:
            discounts_truth += _festival_discounts(rng, rows, days, channels, discount)
    festival_days = np.zeros(len(dates), dtype=bool)
    festival_days[day_idx] = True
    truth = {
        "festivals": reference,
        "festival_channel_multipliers": per_channel,
        "festival_discounts": discounts_truth,
        "seasonality": {
            "weekly": {ch: [float(x) for x in weekly[i]] for i, ch in enumerate(channels)},
            "yearly_amplitude": amp,
            "yearly_peak_day": peak,
        },
    }
    return CalendarEffects(weekly, yearly_matrix(dates, categories, amp, peak), np.exp(log_mult), discount,
                           festival_days, truth)
