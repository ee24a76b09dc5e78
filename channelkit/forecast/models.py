"""The statsforecast model sets channelkit fits, named in one place.

Names an analyst can pass as ``models=``:

=================  ==========================================================================
``seasonal_naive``  last season's value (``SeasonalNaive``); the baseline every metric scales by
``ets``             ``AutoETS(model="ANA")``: additive error and season (weekly for daily data), no
                    trend; the trend search is dropped because it costs 5x the time and rarely
                    pays at 4-8 week horizons on sales
``mstl``            ``MSTL`` with the main season (STL), the deseasonalised series forecast by
                    simple exponential smoothing (``AutoETS(model="ANN")``); a trend search
                    (``AZN``) costs 10x the time for a 1-2% drift over a 4-week horizon
``mstl_yearly``     the same with weekly and yearly (365-day) seasons when the series has two full
                    years (else weekly only); about 40x slower than ``mstl`` (statsmodels STL
                    over a 365-day period), so not part of ``auto``
``croston``         ``CrostonOptimized`` (intermittent demand)
``tsb``             ``TSB`` (Teunter-Syntetos-Babai, alpha_d = alpha_p = 0.1) (intermittent demand)
``adida``           ``ADIDA`` (temporal aggregation; intermittent demand)
``theta``           ``AutoTheta`` with the main season
``mstl_fourier``    a multiple-seasonal decomposition by least squares instead of loess: the
                    yearly season by K Fourier harmonics (period 365.25 days with K = 10, or 52.18
                    weeks with K = 25, every harmonic a weekly series can hold; only for series
                    whose history covers two full years, and in a backtest fit only when its
                    training span covers one) and, on daily data, the weekly season by
                    day-of-week terms, in one regression; ``AutoETS(model="ANN")`` forecasts the
                    rest (:mod:`channelkit.forecast.regression`). The fast route to the yearly
                    season: cheaper than ``mstl`` instead of 40x it
``arima``           ``AutoARIMA`` with the main season (takes regressors natively; slow on daily
                    data, so never in ``auto``)
=================  ==========================================================================

With known future ``regressors`` (:func:`channelkit.forecast.forecast`), ``ets`` and ``mstl_fourier``
regress the series on them first (same module) and ``arima`` takes them as exogenous terms; the
other models ignore them.

``"auto"`` (the default) fits ``seasonal_naive``, ``ets``, the three intermittent models and
``mstl_fourier``, plus ``mstl`` (which is the yearly MSTL there) on weekly data, and adds
``ensemble``: the mean of the adaptive models. How a series' forecast is then made from the
backtest is the engine's ``selection`` rule (:mod:`channelkit.forecast.selection`).

Why the seasonal-decomposition models are in ``auto`` (issue 14): on real weekly retail data
(a few hundred series, 2.5 years) the old ``auto`` scored MASE 0.881 against 0.745 for MSTL with the
yearly season; the sample, whose yearly swing is mild, had not shown it. Before that, ``mstl`` had
been left out on the sample alone (160 daily series: MASE 0.815 with it, 0.813 without, at twice the
CPU time). On daily data ``auto`` takes ``mstl_fourier`` rather than ``mstl``: it adds the yearly
season where there are two years of history, and its regression weekly season (instead of STL's)
was both more accurate and cheaper: on Complete Journey daily (100 products, 4 nested origins of 28
days, no yearly terms at 365 days) ``mstl_fourier`` alone scored MASE 0.831 at 2.4 CPU-s against
0.861 at 11.5 CPU-s with the STL weekly season, ``auto`` 0.806 at 12.5 CPU-s against 0.803 at 18.9;
on the 40 largest series of the ``large`` sample 0.825 against 0.863 alone, ``auto`` 0.743 against
0.748. The STL version made ``auto`` miss the ``large`` speed target (6.6 min of CPU on 2 cores for
10,000 series against 5).

Cost of the yearly routes, ``benchmarks/forecast_yearly.py`` on the 40 largest series of the
``large`` sample (731 days, backtest of 3 x 28 days + forecast, one core, load 4 on 2 cores):
s/series and MASE ``seasonal_naive`` 0.028 / 0.988, ``ets`` 0.087 / 0.786, ``mstl`` 0.089 / 0.819,
``mstl_fourier`` 0.041 / 0.825, ``mstl_yearly`` 1.088 / 0.816, ``auto`` 0.197 / 0.743. So the
regression route costs half the weekly MSTL and 1/27 of the 365-day STL. With two years of
history a backtest fit sees 1.8 years: ``mstl_yearly`` is then the weekly MSTL, while
``mstl_fourier`` fits its yearly terms on 1.8 cycles; ``auto`` weighs it by its backtest like any
candidate and beat every single model.
"""
from __future__ import annotations

from typing import Sequence

from statsforecast.models import (ADIDA, MSTL, TSB, AutoARIMA, AutoETS, AutoTheta, CrostonOptimized,
                                  SeasonalNaive)

from channelkit.errors import InputError
from channelkit.forecast.regression import YEAR_PERIODS, RegressionThen

MODEL_NAMES = ("seasonal_naive", "ets", "mstl", "mstl_yearly", "mstl_fourier", "croston", "tsb", "adida", "theta",
               "arima", "lgbm")
# Fitted across all series by channelkit.forecast.global_model, not per series by statsforecast.
GLOBAL_MODELS = ("lgbm",)
AUTO_MODELS = ("seasonal_naive", "ets", "croston", "tsb", "adida", "mstl_fourier")
AUTO_WEEKLY_EXTRA = ("mstl",)
# Members of the combination: the adaptive models, not the naive baseline.
ENSEMBLE_MEMBERS = ("ets", "mstl", "mstl_yearly", "mstl_fourier", "croston", "tsb", "adida", "arima")
ENSEMBLE = "ensemble"
YEAR = {"D": 365, "W": 52}
# Fourier harmonics of the yearly season. Weekly: all 25 a 52-week year can hold, because single-week
# holiday peaks need them; measured on real weekly data (benchmarks/real, Walmart, 7 departments,
# 3 origins of 13 weeks) mstl_fourier's MASE was 1.429 / 1.296 / 1.290 / 1.256 with K = 10 / 16 / 20 / 25
# (mstl, the 52-week STL: 1.303). Daily: 10 (features of about five weeks; festival days are the
# calendar's job); no real daily panel with two years was at hand to tune it.
N_HARMONICS = {"D": 10, "W": 25}


def resolve_models(models: str | Sequence[str], *, freq: str = "D") -> tuple[str, ...]:
    """Turn ``models`` ("auto", one name or a list of names) into a tuple of known names.

    ``"auto"`` depends on ``freq``: weekly panels also get ``mstl`` (see the module doc).
    """
    if isinstance(models, str):
        weekly = freq.startswith("W")
        models = (*AUTO_MODELS, *(AUTO_WEEKLY_EXTRA if weekly else ())) if models == "auto" else (models,)
    names = tuple(dict.fromkeys(models))
    unknown = [m for m in names if m not in MODEL_NAMES]
    if unknown or not names:
        raise InputError(f"`models` must be 'auto' or names from {list(MODEL_NAMES)}, but got {unknown or names}")
    return names


def seasons(freq: str, season_length: int, n_obs: int) -> list[int]:
    """Seasonal periods MSTL can estimate from ``n_obs`` points: each needs two full cycles."""
    base = freq.split("-")[0]
    cands = [season_length]
    if base == "D" and n_obs > 2 * YEAR["D"]:
        cands.append(YEAR["D"])
    return [s for s in cands if n_obs > 2 * s]


def year_period(freq: str) -> float | None:
    """Periods per year for daily (365.25) and weekly (52.18) data; ``None`` otherwise."""
    return YEAR_PERIODS.get(freq.split("-")[0][:1])


def has_two_years(freq: str, n_obs: int) -> bool:
    """Whether a series' whole history (``n_obs`` periods) covers two yearly cycles."""
    period = year_period(freq)
    return period is not None and n_obs >= 2 * period


def _fourier_model(*, season_length: int, freq: str, use_exog: bool, yearly: bool, alias: str) -> RegressionThen:
    """``mstl_fourier`` (module doc): yearly Fourier terms, day-of-week terms (daily) and regressors, then ETS.

    ``yearly`` (the series' whole history covers two years) switches the Fourier terms on; each fit
    then uses them when its own training span covers one year (a backtest fit sees less history
    than the final one, and must be the same model).
    """
    period = year_period(freq)
    main_below_year = period is not None and season_length < period / 2
    k = N_HARMONICS.get(freq.split("-")[0][:1], 10)
    k = k if period is None else min(k, int((period - 1) // 2))
    return RegressionThen(AutoETS(model="ANN"), period=period if yearly else None, n_harmonics=k, min_cycles=1.0,
                          use_exog=use_exog, season_dummies=season_length if main_below_year else None, alias=alias)


def build_models(names: Sequence[str], *, season_length: int, mstl_seasons: Sequence[int], freq: str = "D",
                 use_exog: bool = False, yearly: bool = False) -> list:
    """Instantiate the statsforecast models for ``names`` (aliases equal the channelkit names).

    ``mstl_seasons`` (from :func:`seasons`) are the periods the history supports; ``mstl``
    keeps only the main one, ``mstl_yearly`` all. Without any, both fall back to a
    non-seasonal ETS under the same name, so short series still get a forecast. ``use_exog``
    (known future regressors in the data) makes ``ets`` and ``mstl_fourier`` regress on them;
    ``yearly`` (two years of history, :func:`has_two_years`) gives ``mstl_fourier`` its Fourier terms.
    """
    out = []
    for name in names:
        if name == "seasonal_naive":
            out.append(SeasonalNaive(season_length=season_length, alias=name))
        elif name == "ets" and use_exog:
            ets = AutoETS(season_length=season_length, model="ANA")
            out.append(RegressionThen(ets, period=None, use_exog=True, alias=name))
        elif name == "ets":
            out.append(AutoETS(season_length=season_length, model="ANA", alias=name))
        elif name == "mstl_fourier":
            out.append(_fourier_model(season_length=season_length, freq=freq, use_exog=use_exog, yearly=yearly,
                                      alias=name))
        elif name == "arima":
            out.append(AutoARIMA(season_length=season_length, alias=name))
        elif name in ("mstl", "mstl_yearly"):
            periods = list(mstl_seasons) if name == "mstl_yearly" else [s for s in mstl_seasons if s == season_length]
            if periods:
                out.append(MSTL(season_length=periods, trend_forecaster=AutoETS(model="ANN"), alias=name))
            else:
                out.append(AutoETS(model="ANN", alias=name))
        elif name == "croston":
            out.append(CrostonOptimized(alias=name))
        elif name == "tsb":
            out.append(TSB(alpha_d=0.1, alpha_p=0.1, alias=name))
        elif name == "adida":
            out.append(ADIDA(alias=name))
        elif name == "theta":
            out.append(AutoTheta(season_length=season_length, alias=name))
    return out


def ensemble_members(names: Sequence[str]) -> list[str]:
    """The fitted names that enter the ``ensemble`` mean (empty when fewer than two)."""
    members = [n for n in names if n in ENSEMBLE_MEMBERS]
    return members if len(members) >= 2 else []
