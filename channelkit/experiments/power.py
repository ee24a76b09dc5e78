"""Sample size, power and minimum detectable effect for two-variant tests (statsmodels.stats.power).

Conversion: the effect size is Cohen's h = 2 asin(sqrt(p2)) - 2 asin(sqrt(p1)) (arcsine
transform, ``statsmodels.stats.proportion.proportion_effectsize``) and the normal power of
``NormalIndPower``, so n per group ~= (z_{1-alpha/2} + z_{power})^2 / h^2 x (1 + 1/ratio).
Means (revenue per user): Cohen's d = mde / sd with the t-test power of ``TTestIndPower``.
``ratio`` = n_treatment / n_control; sizes are per group and rounded up.
"""
from __future__ import annotations

import math
from typing import Literal

import numpy as np
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import proportion_effectsize

from channelkit.errors import InputError
from channelkit.experiments._checks import check_alpha

Alternative = Literal["two-sided", "larger", "smaller"]


def _target_rate(baseline_rate: float, mde: float, relative: bool) -> float:
    if not 0 < baseline_rate < 1:
        raise InputError(f"`baseline_rate` must satisfy 0 < baseline_rate < 1, but got {baseline_rate!r}")
    if mde == 0:
        raise InputError("`mde` must be non-zero, but got 0")
    target = baseline_rate * (1 + mde) if relative else baseline_rate + mde
    if not 0 < target < 1:
        raise InputError(f"`mde`={mde!r} moves the rate {baseline_rate!r} to {target!r}, outside (0, 1)")
    return target


def _check_common(alpha: float, power: float | None, ratio: float) -> None:
    check_alpha(alpha)
    if power is not None:
        check_alpha(power, "power")
    if not ratio > 0:
        raise InputError(f"`ratio` must be > 0, but got {ratio!r}")


def sample_size_proportions(baseline_rate: float, mde: float, *, relative: bool = True, alpha: float = 0.05,
                            power: float = 0.8, ratio: float = 1.0,
                            alternative: Alternative = "two-sided") -> dict[str, float]:
    """Users per group to detect a change of ``mde`` in a conversion rate.

    ``mde`` is relative to ``baseline_rate`` by default (0.1 = +10%), absolute when
    ``relative=False``. Returns ``{"n_control", "n_treatment", "effect_size", "target_rate"}``.
    """
    _check_common(alpha, power, ratio)
    target = _target_rate(baseline_rate, mde, relative)
    h = abs(proportion_effectsize(target, baseline_rate))
    n = NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=ratio,
                                     alternative=_abs_alternative(alternative))
    n_c = math.ceil(n)
    return {"n_control": n_c, "n_treatment": math.ceil(n_c * ratio), "effect_size": float(h),
            "target_rate": target}


def power_proportions(baseline_rate: float, mde: float, n_control: int, *, relative: bool = True,
                      alpha: float = 0.05, ratio: float = 1.0, alternative: Alternative = "two-sided") -> float:
    """Power of the two-proportion test with ``n_control`` users (``n_control x ratio`` treated)."""
    _check_common(alpha, None, ratio)
    target = _target_rate(baseline_rate, mde, relative)
    h = abs(proportion_effectsize(target, baseline_rate))
    return float(NormalIndPower().power(effect_size=h, nobs1=n_control, alpha=alpha, ratio=ratio,
                                        alternative=_abs_alternative(alternative)))


def sample_size_means(sd: float, mde: float, *, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0,
                      alternative: Alternative = "two-sided") -> dict[str, float]:
    """Users per group to detect an absolute change ``mde`` in a mean whose per-user sd is ``sd``.

    For CUPED, pass ``sd * sqrt(1 - rho**2)``: the adjusted metric needs that much fewer users.
    """
    _check_common(alpha, power, ratio)
    if not sd > 0:
        raise InputError(f"`sd` must be > 0, but got {sd!r}")
    d = abs(mde) / sd
    if d == 0:
        raise InputError("`mde` must be non-zero, but got 0")
    n = TTestIndPower().solve_power(effect_size=d, alpha=alpha, power=power, ratio=ratio,
                                    alternative=_abs_alternative(alternative))
    n_c = math.ceil(n)
    return {"n_control": n_c, "n_treatment": math.ceil(n_c * ratio), "effect_size": float(d)}


def minimum_detectable_effect(sd: float, n_control: int, *, alpha: float = 0.05, power: float = 0.8,
                              ratio: float = 1.0, alternative: Alternative = "two-sided") -> float:
    """Smallest absolute change in a mean detectable with ``power`` at ``n_control`` users per group.

    For a conversion rate p use ``sd = sqrt(p (1 - p))`` (a normal approximation).
    """
    _check_common(alpha, power, ratio)
    if not sd > 0 or not n_control >= 2:
        raise InputError(f"`sd` must be > 0 and `n_control` >= 2, but got sd={sd!r}, n_control={n_control!r}")
    d = TTestIndPower().solve_power(nobs1=n_control, alpha=alpha, power=power, ratio=ratio,
                                    alternative=_abs_alternative(alternative))
    return float(np.asarray(d).item() * sd)


def _abs_alternative(alternative: str) -> str:
    """Effect sizes are passed as absolute values, so a one-sided test is always ``larger``."""
    if alternative not in ("two-sided", "larger", "smaller"):
        raise InputError(f"`alternative` must be 'two-sided', 'larger' or 'smaller', but got {alternative!r}")
    return "two-sided" if alternative == "two-sided" else "larger"
