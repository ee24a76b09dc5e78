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
=================  ==========================================================================

``"auto"`` (the default) fits ``seasonal_naive``, ``ets`` and the three intermittent models and adds
``ensemble``: the mean of ``ets`` and the intermittent models; each series then keeps whichever
candidate backtests best. ``mstl`` is left out of ``auto`` on measurement: in the nested backtest of
the small sample (160 daily series, 3 origins) ``auto`` with it scored MASE 0.815, without it 0.813,
at twice the CPU time (statsmodels STL plus pandas work inside statsforecast's ``MSTL.forward``,
~26 ms per series and backtest against ~13 ms for ``ets``); on 300 series of the ``large`` sample it
was the least accurate adaptive model (MASE 1.06 against ~1.01 for ``ets``/``tsb``). Name it in
``models=`` to add it.
"""
from __future__ import annotations

from typing import Sequence

from statsforecast.models import ADIDA, MSTL, TSB, AutoETS, AutoTheta, CrostonOptimized, SeasonalNaive

from channelkit.errors import InputError

MODEL_NAMES = ("seasonal_naive", "ets", "mstl", "mstl_yearly", "croston", "tsb", "adida", "theta", "lgbm")
# Fitted across all series by channelkit.forecast.global_model, not per series by statsforecast.
GLOBAL_MODELS = ("lgbm",)
AUTO_MODELS = ("seasonal_naive", "ets", "croston", "tsb", "adida")
# Members of the combination: the adaptive models, not the naive baseline.
ENSEMBLE_MEMBERS = ("ets", "mstl", "mstl_yearly", "croston", "tsb", "adida")
ENSEMBLE = "ensemble"
YEAR = {"D": 365, "W": 52}


def resolve_models(models: str | Sequence[str]) -> tuple[str, ...]:
    """Turn ``models`` ("auto", one name or a list of names) into a tuple of known names."""
    if isinstance(models, str):
        models = AUTO_MODELS if models == "auto" else (models,)
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


def build_models(names: Sequence[str], *, season_length: int, mstl_seasons: Sequence[int]) -> list:
    """Instantiate the statsforecast models for ``names`` (aliases equal the channelkit names).

    ``mstl_seasons`` (from :func:`seasons`) are the periods the history supports; ``mstl``
    keeps only the main one, ``mstl_yearly`` all. Without any, both fall back to a
    non-seasonal ETS under the same name, so short series still get a forecast.
    """
    out = []
    for name in names:
        if name == "seasonal_naive":
            out.append(SeasonalNaive(season_length=season_length, alias=name))
        elif name == "ets":
            out.append(AutoETS(season_length=season_length, model="ANA", alias=name))
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
        # GLOBAL_MODELS are not built here (see channelkit.forecast.global_model).
    return out


def ensemble_members(names: Sequence[str]) -> list[str]:
    """The fitted names that enter the ``ensemble`` mean (empty when fewer than two)."""
    members = [n for n in names if n in ENSEMBLE_MEMBERS]
    return members if len(members) >= 2 else []
