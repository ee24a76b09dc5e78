"""One call for a whole per-user experiment table: every test, the SRM check and the peeking check."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from channelkit.experiments._checks import check_alpha, check_columns, split_variants
from channelkit.experiments.compare import bootstrap_test, conversion_test, welch_test
from channelkit.experiments.cuped import cuped_test
from channelkit.experiments.peeking import daily_history, peeking_check
from channelkit.experiments.srm import sample_ratio_check


@dataclass
class ExperimentResult:
    """``tests``: one row per metric and method (``RESULT_COLUMNS``); ``srm``: the assignment check;
    ``looks`` and ``peeking``: the replayed daily looks and their summary (None without a date
    column); ``warnings``: plain sentences for the reader."""

    tests: pd.DataFrame
    srm: dict[str, object]
    looks: pd.DataFrame | None = None
    peeking: dict[str, object] | None = None
    warnings: list[str] = field(default_factory=list)


def analyze_experiment(df: pd.DataFrame, *, variant_col: str = "variant", converted_col: str | None = "converted",
                       value_col: str | None = "revenue", covariate_col: str | None = None,
                       date_col: str | None = None, control: str | None = None, treatment: str | None = None,
                       alpha: float = 0.05, planned_n: int | None = None, n_resamples: int = 2000,
                       seed: int = 0) -> ExperimentResult:
    """Run the tests that the columns allow on a per-user table (one row per user).

    - ``converted_col`` (0/1): two-proportion z test;
    - ``value_col`` (e.g. revenue per user, zeros included): Welch t and a seeded percentile bootstrap;
    - ``covariate_col`` (pre-period value of the metric): CUPED-adjusted Welch t;
    - ``date_col`` (enrolment day): daily looks replayed by :func:`peeking_check` (needs ``converted_col``).
    Pass None to skip a column. Defaults: alpha 0.05 two-sided, 2000 resamples, seed 0.
    """
    check_alpha(alpha)
    wanted = [c for c in (variant_col, converted_col, value_col, covariate_col, date_col) if c]
    check_columns(df, wanted)
    control, treatment, _, _ = split_variants(df, variant_col=variant_col, control=control, treatment=treatment)
    df = df[df[variant_col].astype(str).isin([control, treatment])]
    common = {"variant_col": variant_col, "control": control, "treatment": treatment}
    rows = []
    if converted_col:
        rows.append(conversion_test(df, converted_col=converted_col, alpha=alpha, **common))
    if value_col:
        rows.append(welch_test(df, value_col=value_col, alpha=alpha, **common))
        rows.append(bootstrap_test(df, value_col=value_col, level=100 * (1 - alpha), n_resamples=n_resamples,
                                   seed=seed, **common))
        if covariate_col:
            rows.append(cuped_test(df, value_col=value_col, covariate_col=covariate_col, alpha=alpha, **common))
    result = ExperimentResult(tests=pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(),
                              srm=sample_ratio_check(df, variant_col=variant_col))
    if result.srm["mismatch"]:
        result.warnings.append(f"Sample ratio mismatch (p = {result.srm['p_value']:.2g}): users per variant "
                               f"{result.srm['counts']} are far from the planned split; check the assignment "
                               "before trusting any result.")
    if date_col and converted_col:
        history = daily_history(df, date_col=date_col, variant_col=variant_col, converted_col=converted_col)
        result.looks, result.peeking = peeking_check(history, control=control, treatment=treatment,
                                                     planned_n=planned_n, alpha=alpha)
        if result.peeking["warning"]:
            result.warnings.append(str(result.peeking["warning"]))
    return result
