"""Demand forecasting: statsforecast model sets with per-series backtest choice, festival
adjustment, conformal intervals, Prophet with Chinese festivals, reconciliation and reorder advice.

Start with :func:`forecast` (a tidy frame) or :func:`run_forecast` (forecast + backtest +
model choice). Modules: ``frames`` (validation), ``models``, ``festivals``, ``backtest``,
``engine``, ``prophet``, ``hierarchy`` and ``reconcile`` (bottom-up, MinT), ``inventory``.
"""
from __future__ import annotations

from channelkit.forecast.engine import ForecastRun, forecast, run_forecast
from channelkit.forecast.inventory import reorder_advice
from channelkit.forecast.reconcile import compare_reconciliation, reconcile

__all__ = ["ForecastRun", "compare_reconciliation", "forecast", "run_forecast", "reconcile", "reorder_advice"]
