"""Input checks shared by the experiment functions; every error names the argument and the value."""
from __future__ import annotations

import reprlib
from collections.abc import Iterable

import numpy as np
import pandas as pd

from channelkit.errors import InputError


def check_level(level: float) -> float:
    """``level`` is a confidence level in percent, 0 < level < 100 (the utilsforecast convention)."""
    if not isinstance(level, (int, float)) or not 0 < level < 100:
        raise InputError(f"`level` must satisfy 0 < level < 100, but got {level!r}")
    return float(level)


def check_alpha(alpha: float, name: str = "alpha") -> float:
    """``alpha`` is a significance level, 0 < alpha < 1."""
    if not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise InputError(f"`{name}` must satisfy 0 < {name} < 1, but got {alpha!r}")
    return float(alpha)


def check_columns(frame: pd.DataFrame, columns: Iterable[str], *, name: str = "df") -> None:
    """Raise when ``frame`` lacks any of ``columns``; the message lists what is missing and present."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"`{name}` must be a pandas DataFrame, but got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"`{name}` lacks column(s) {missing}; it has {reprlib.repr(list(frame.columns))}")


def as_numeric(values: object, *, name: str) -> np.ndarray:
    """A 1-d float array without NaN; the error shows example offending values."""
    series = pd.Series(values)
    numeric = pd.to_numeric(series, errors="coerce")
    bad = series[numeric.isna()]
    if len(bad):
        raise InputError(f"`{name}` must be numeric without missing values; {len(bad)} bad value(s), "
                         f"e.g. {reprlib.repr(bad.head(5).tolist())}")
    if len(numeric) < 2:
        raise InputError(f"`{name}` needs at least 2 observations, but got {len(numeric)}")
    return numeric.to_numpy(dtype=float)


def as_binary(values: object, *, name: str) -> np.ndarray:
    """A 0/1 array; booleans are accepted, anything else outside {0, 1} is an error."""
    series = pd.Series(values)
    array = as_numeric(series.astype(int) if series.dtype == bool else series, name=name)
    bad = array[(array != 0) & (array != 1)]
    if len(bad):
        raise InputError(f"`{name}` must hold 0/1 (or True/False), but got e.g. {reprlib.repr(bad[:5].tolist())}")
    return array


def split_variants(df: pd.DataFrame, *, variant_col: str, control: str | None,
                   treatment: str | None) -> tuple[str, str, pd.DataFrame, pd.DataFrame]:
    """The control and treatment rows of a per-user frame with exactly two variants (or two named ones).

    When ``control`` is None the variant named ``control`` is used if present, else the first in
    sorted order; ``treatment`` defaults to the other one.
    """
    check_columns(df, [variant_col])
    names = sorted(pd.unique(df[variant_col].astype(str)))
    if control is None:
        control = "control" if "control" in names else (names[0] if names else None)
    others = [n for n in names if n != control]
    if treatment is None:
        if len(others) != 1:
            raise InputError(f"`{variant_col}` must hold exactly two variants (or pass control= and treatment=), "
                             f"but got {reprlib.repr(names)}")
        treatment = others[0]
    for label, value in (("control", control), ("treatment", treatment)):
        if value not in names:
            raise InputError(f"`{label}`={value!r} is not a value of `{variant_col}`; it has {reprlib.repr(names)}")
    labels = df[variant_col].astype(str)
    return str(control), str(treatment), df[labels == control], df[labels == treatment]
