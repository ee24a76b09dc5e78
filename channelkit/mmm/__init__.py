"""Marketing mix model: what each yuan of ad spend earns, from aggregate sales and spend.

``fit_mmm(panel, spend_cols=[...])`` fits adstock (geometric or delayed Weibull) and Hill
saturation per channel with a baseline of trend, yearly and weekly seasonality, festivals and
price/promotion controls, calibrated to lift tests, with block-bootstrap intervals that refit every
parameter. ``channel_summary``, ``decomposition``, ``response_curves`` and ``diagnostics`` read the
result; ``optimise_budget`` moves the budget where the interval says it pays. docs/mmm.md explains.
"""
from channelkit.mmm.model import MMMResult, fit_mmm, fit_model_data
from channelkit.mmm.optimise import optimise_budget
from channelkit.mmm.outputs import channel_summary, decomposition, diagnostics, response_curves
from channelkit.mmm.compare import roas_comparison
from channelkit.mmm.panel import CONTROL_COLUMNS, dataset_panel, missing_inputs

__all__ = ["CONTROL_COLUMNS", "MMMResult", "channel_summary", "dataset_panel", "missing_inputs", "decomposition", "diagnostics",
           "fit_mmm", "fit_model_data", "optimise_budget", "response_curves", "roas_comparison"]
