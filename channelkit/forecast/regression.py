"""A statsforecast model: regression on yearly Fourier terms and known regressors, a base model on the rest.

:class:`RegressionThen` is how channelkit reaches the yearly season of daily data fast, and how
ETS and MSTL use known future regressors (promotion flags, planned prices) that they cannot take
themselves. For a series ``y_1..y_n`` (period index ``t = 0..n-1``):

1. Design ``D = [1, t/n, S, sin(2 pi k t / P), cos(2 pi k t / P) (k = 1..K), X]`` with ``S`` the
   indicators of ``t mod m = 1..m-1`` (``season_dummies = m``, e.g. the weekday on daily data;
   optional), ``P`` the yearly period (365.25 days, 365.25/7 weeks) and ``X`` the regressors. The Fourier terms are
   used only when the history covers ``min_cycles`` (default 2) full years, so a year's peak
   is seen at least twice; with no Fourier terms and no regressors the model *is* its base model.
2. Ordinary least squares ``b = argmin |y - D b|`` (:func:`least_squares`, a tiny ridge keeps a
   constant regressor harmless); the *removed* part ``r_t = D_t b`` leaves out the intercept and the
   trend term (they only keep the harmonics from absorbing level and drift), so the base model
   still sees the series' level.
3. The base model (e.g. MSTL with the weekly season, ETS) is fitted to ``y - r`` and forecasts
   ``h`` periods; the forecast is that plus ``r`` over the future periods (Fourier terms continue,
   ``X`` is the plan).

Why not statsmodels STL with a 365-day period (``mstl_yearly``): its loess windows span a year,
which costs ~40x a weekly MSTL per series; a least-squares fit of ``2K + 2`` columns costs
almost nothing; on daily data K = 10 harmonics resolve features of about five weeks, enough for the
seasonal swing (festival days are handled apart, by :mod:`channelkit.forecast.festivals`).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from statsforecast.models import _TS

YEAR_PERIODS = {"D": 365.25, "W": 365.25 / 7}


def least_squares(D: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``argmin |y - D b|`` by the normal equations with a tiny ridge (1e-9 of the mean diagonal).

    The ridge makes a constant or collinear regressor column harmless (its coefficient goes to
    the minimum-norm share). Solving the ``p x p`` system (p <= ~30) is ~50x cheaper than the SVD
    of ``numpy.linalg.lstsq`` on a 700 x 22 design, which dominated the model's cost.
    """
    A = D.T @ D
    A[np.diag_indices_from(A)] += 1e-9 * max(float(np.trace(A)) / len(A), 1e-12)
    return np.linalg.solve(A, D.T @ y)


class RegressionThen(_TS):
    """Least squares on yearly Fourier terms and regressors, then ``base`` on the remainder (module doc).

    ``period=None`` drops the Fourier terms; ``use_exog=False`` ignores regressors (then the model
    equals its base model unless the Fourier terms apply). ``n_harmonics`` is K.
    """

    def __init__(self, base: _TS, *, period: float | None, n_harmonics: int = 10, min_cycles: float = 2.0,
                 use_exog: bool = False, season_dummies: int | None = None, alias: str = "RegressionThen") -> None:
        self.base = base
        self.season_dummies = season_dummies
        self.period = period
        self.n_harmonics = n_harmonics
        self.min_cycles = min_cycles
        self.uses_exog = use_exog
        self.alias = alias

    def _fourier(self, n: int) -> bool:
        return self.period is not None and n >= self.min_cycles * self.period

    def _design(self, t: np.ndarray, n: int, X: Optional[np.ndarray], fourier: bool) -> np.ndarray:
        cols = [np.ones(len(t)), t / n]
        if self.season_dummies:
            pos = t.astype(int) % self.season_dummies
            cols += [(pos == j).astype(float) for j in range(1, self.season_dummies)]
        if fourier:
            for k in range(1, self.n_harmonics + 1):
                w = 2 * np.pi * k * t / self.period
                cols += [np.sin(w), np.cos(w)]
        if self.uses_exog and X is not None and X.size:
            cols += list(np.asarray(X, dtype=float).reshape(len(t), -1).T)
        return np.column_stack(cols)

    def _removed(self, t: np.ndarray, X: Optional[np.ndarray]) -> np.ndarray:
        """``D_t b`` without the intercept and trend columns (step 2)."""
        if self.coef_ is None:
            return np.zeros(len(t))
        D = self._design(t, self.n_, X, self.fourier_)
        return D[:, 2:] @ self.coef_[2:]

    def fit(self, y: np.ndarray, X: Optional[np.ndarray] = None) -> "RegressionThen":
        y = np.asarray(y, dtype=float)
        n = len(y)
        self.n_, self.fourier_ = n, self._fourier(n)
        has_x = self.uses_exog and X is not None and np.asarray(X).size > 0
        self.coef_ = None
        if self.fourier_ or has_x or self.season_dummies:
            t = np.arange(n, dtype=float)
            self.coef_ = least_squares(self._design(t, n, X, self.fourier_), y)
        rest = y - self._removed(np.arange(n, dtype=float), X)
        self.model_ = self.base.new().fit(y=rest)
        return self

    def predict(self, h: int, X: Optional[np.ndarray] = None, level=None) -> dict:
        t = np.arange(self.n_, self.n_ + h, dtype=float)
        mean = self.model_.predict(h=h)["mean"] + self._removed(t, X)
        return {"mean": mean}

    def forecast(self, y: np.ndarray, h: int, X: Optional[np.ndarray] = None, X_future: Optional[np.ndarray] = None,
                 level=None, fitted: bool = False) -> dict:
        return self.new().fit(y, X).predict(h, X_future)

    def forward(self, y: np.ndarray, h: int, X: Optional[np.ndarray] = None, X_future: Optional[np.ndarray] = None,
                level=None, fitted: bool = False) -> dict:
        """Keep the fitted coefficients and base parameters, re-filter the newer ``y`` (statsforecast's
        ``refit=False`` cross-validation); the time index runs on from the fitted series' start."""
        if not hasattr(self, "model_"):
            return self.forecast(y, h, X, X_future)
        n = len(y)
        rest = np.asarray(y, dtype=float) - self._removed(np.arange(n, dtype=float), X)
        if hasattr(self.model_, "forward"):
            base = self.model_.forward(y=rest, h=h)["mean"]
        else:
            base = self.base.new().forecast(y=rest, h=h)["mean"]
        return {"mean": base + self._removed(np.arange(n, n + h, dtype=float), X_future)}
