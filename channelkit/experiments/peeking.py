"""Was a test stopped early by peeking? Replay its daily results and compare with a sequential plan.

The rule (documented for analysts):
1. At each daily look k the cumulative counts give the two-proportion z statistic Z_k and the
   information fraction t_k = n_k / N, where N is the planned total sample (``planned_n``) or, when
   no plan is given, the sample at the last look (t_K = 1).
2. The boundary to respect is the Lan-DeMets alpha-spending boundary b_k at those fractions
   (O'Brien-Fleming by default, see :mod:`channelkit.experiments.sequential`).
3. ``adjusted_p_value`` is the repeated-significance p-value of the looks as taken:
   P_H0(max_k |Z_k| >= |Z_K|), the chance that pure noise reaches the final |z| at some look.
4. The test counts as **stopped early by peeking** when there were at least two looks, the last look is
   nominally significant (p < alpha), and
   - with a plan: the planned sample was not reached (n_K < N) and |Z_K| < b_K (the boundary was not
     crossed), or
   - without a plan: the test ended at the first nominally significant look (the signature of "stop
     when it turns green"; N was then chosen by the data, so no fixed-N boundary applies) and
     ``adjusted_p_value`` >= alpha.
5. ``effective_alpha`` is the real false-positive rate of stopping at the first nominally significant
   look among the looks taken: P_H0(max_k |Z_k| >= z_{1-alpha/2}) (0.14 for 5 equal looks at 0.05).
The warning recommends a sequential plan: fix N, stop early only when |Z_k| >= b_k (``boundary``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from channelkit.errors import InputError
from channelkit.experiments._checks import check_alpha, check_columns
from channelkit.experiments.sequential import (Spending, crossing_probability, naive_peeking_alpha,
                                               spending_boundaries)

LOOK_COLUMNS = ["date", "n_control", "n_treatment", "conv_control", "conv_treatment", "z", "p_value",
                "info_fraction", "boundary", "nominal_significant", "crosses_boundary"]


def daily_history(df: pd.DataFrame, *, date_col: str = "date", variant_col: str = "variant",
                  converted_col: str = "converted") -> pd.DataFrame:
    """Daily new users and conversions per variant from a per-user table with an enrolment date.

    Columns: ``date, variant, users, conversions`` (daily counts, not cumulative).
    """
    check_columns(df, [date_col, variant_col, converted_col])
    frame = pd.DataFrame({"date": pd.to_datetime(df[date_col]).dt.normalize(),
                          "variant": df[variant_col].astype(str),
                          "converted": pd.to_numeric(df[converted_col]).astype(float)})
    out = frame.groupby(["date", "variant"], as_index=False).agg(users=("converted", "size"),
                                                                 conversions=("converted", "sum"))
    return out.sort_values(["date", "variant"]).reset_index(drop=True)


def _cumulative(history: pd.DataFrame, control: str, treatment: str, cumulative: bool) -> pd.DataFrame:
    wide = history.pivot_table(index="date", columns="variant", values=["users", "conversions"], aggfunc="sum")
    wide = wide.sort_index().fillna(0.0)
    if not cumulative:
        wide = wide.cumsum()
    looks = pd.DataFrame({"date": wide.index, "n_control": wide[("users", control)].to_numpy(),
                          "n_treatment": wide[("users", treatment)].to_numpy(),
                          "conv_control": wide[("conversions", control)].to_numpy(),
                          "conv_treatment": wide[("conversions", treatment)].to_numpy()})
    return looks[(looks["n_control"] > 0) & (looks["n_treatment"] > 0)].reset_index(drop=True)


def _z(looks: pd.DataFrame) -> np.ndarray:
    p_c, p_t = looks["conv_control"] / looks["n_control"], looks["conv_treatment"] / looks["n_treatment"]
    pooled = (looks["conv_control"] + looks["conv_treatment"]) / (looks["n_control"] + looks["n_treatment"])
    se = np.sqrt(pooled * (1 - pooled) * (1 / looks["n_control"] + 1 / looks["n_treatment"]))
    return np.where(se > 0, (p_t - p_c) / se.where(se > 0, 1.0), 0.0)


def peeking_check(history: pd.DataFrame, *, control: str = "control", treatment: str = "treatment",
                  planned_n: int | None = None, alpha: float = 0.05, spending: Spending = "obrien-fleming",
                  cumulative: bool = False) -> tuple[pd.DataFrame, dict[str, object]]:
    """Replay a daily results history (``date, variant, users, conversions``) look by look.

    ``cumulative=False`` (default) reads daily counts; True reads running totals. ``planned_n`` is
    the planned total number of users in both variants. Returns the looks (:data:`LOOK_COLUMNS`) and a
    summary: ``looks, stopped_early, effective_alpha, final_z, final_p_value, final_boundary,
    first_significant_date, adjusted_p_value, planned_n, reached_planned_n, warning`` (``warning`` is None when the
    rule in the module docstring is not met).
    """
    check_alpha(alpha)
    check_columns(history, ["date", "variant", "users", "conversions"], name="history")
    found = set(history["variant"].astype(str))
    if not {control, treatment} <= found:
        raise InputError(f"`history` must hold variants {control!r} and {treatment!r}, but has {sorted(found)}")
    looks = _cumulative(history.assign(variant=history["variant"].astype(str)), control, treatment, cumulative)
    if looks.empty:
        raise InputError("`history` has no day on which both variants have users")
    total = looks["n_control"] + looks["n_treatment"]
    if planned_n is not None and planned_n <= 0:
        raise InputError(f"`planned_n` must be a positive number of users, but got {planned_n!r}")
    # A test run past its plan is analysed at its final size (information fraction 1 at the end).
    n_plan = max(float(planned_n or 0), float(total.iloc[-1]))
    info = total.to_numpy() / n_plan
    keep = np.r_[True, np.diff(info) > 0]  # a day without new users is not a new look
    looks, info = looks[keep].reset_index(drop=True), info[keep]
    looks["z"] = _z(looks)
    looks["p_value"] = 2 * stats.norm.sf(np.abs(looks["z"]))
    looks["info_fraction"] = info
    looks["boundary"] = spending_boundaries(info, alpha=alpha, spending=spending)
    looks["nominal_significant"] = looks["p_value"] < alpha
    looks["crosses_boundary"] = np.abs(looks["z"]) >= looks["boundary"]
    return looks[LOOK_COLUMNS], _summary(looks, alpha=alpha, planned_n=planned_n, spending=spending)


def _summary(looks: pd.DataFrame, *, alpha: float, planned_n: int | None, spending: str) -> dict[str, object]:
    last = looks.iloc[-1]
    significant = looks.index[looks["nominal_significant"]]
    first_sig = int(significant[0]) if len(significant) else None
    reached = bool(planned_n is None or last["n_control"] + last["n_treatment"] >= planned_n)
    stopped_at_first = first_sig == len(looks) - 1
    times = looks["info_fraction"].to_numpy()
    several = len(looks) >= 2
    eff = naive_peeking_alpha(times, alpha=alpha) if several else alpha
    adj_p = float(crossing_probability(times, np.full(len(times), abs(last["z"]))).sum()) if several \
        else float(last["p_value"])
    if planned_n is not None:
        early = (several and bool(last["nominal_significant"]) and not reached
                 and not bool(last["crosses_boundary"]))
        why = (f"the planned {planned_n} users were not reached and the {spending} alpha-spending boundary at "
               f"information fraction {last['info_fraction']:.2f} is |z| >= {last['boundary']:.2f}")
    else:
        early = several and bool(last["nominal_significant"]) and stopped_at_first and adj_p >= alpha
        why = (f"the test stopped at its first significant look, and over these looks noise alone reaches "
               f"|z| = {abs(last['z']):.2f} with probability {adj_p:.3f} (the peeking-adjusted p-value)")
    warning = None
    if early:
        warning = (f"Stopped early by peeking: the last of {len(looks)} looks has p = {last['p_value']:.3g} "
                   f"(|z| = {abs(last['z']):.2f}), but {why}. Stopping at the first p < {alpha:g} over these "
                   f"looks has a false-positive rate of {eff:.2f}, not {alpha:g}. Fix the sample size in advance, "
                   f"and stop early only when |z| crosses an alpha-spending ({spending}) boundary.")
    return {"looks": int(len(looks)), "stopped_early": bool(early), "effective_alpha": float(eff),
            "final_z": float(last["z"]), "final_p_value": float(last["p_value"]),
            "final_boundary": float(last["boundary"]),
            "first_significant_date": (None if first_sig is None
                                       else str(pd.Timestamp(looks["date"].iloc[first_sig]).date())),
            "adjusted_p_value": adj_p, "planned_n": planned_n, "reached_planned_n": reached, "warning": warning}
