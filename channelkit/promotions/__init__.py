"""Promotion and festival evaluation: incremental units, revenue and margin against a
counterfactual, the pull-forward dip, order value, traffic and ROI.

    from channelkit.promotions import evaluate_dataset
    result = evaluate_dataset(load_dataset("data/sample"))

See :mod:`.estimate` for the two designs (difference-in-differences with unpromoted channels for
channel promotions, the forecasting engine trained on the pre-period for festivals; see
:mod:`.baseline`), :mod:`.overlap` for promotions on festival days (the shared lift split
log-additively, nothing counted twice), :mod:`.evaluate` for the money rules and :mod:`.truth` for
the sample's true festival lifts.
"""
from __future__ import annotations

from channelkit.promotions.baseline import EngineOptions
from channelkit.promotions.evaluate import RESULT_COLUMNS, evaluate_promotions
from channelkit.promotions.frames import channel_daily, channel_daily_from_orders, event_windows, marketing_daily
from channelkit.promotions.model import EffectFit, Estimate, fit_effect
from channelkit.promotions.overlap import festival_overlaps
from channelkit.promotions.summary import summarize_by_channel
from channelkit.promotions.truth import true_festival_lifts

__all__ = ["RESULT_COLUMNS", "EffectFit", "EngineOptions", "Estimate", "channel_daily", "channel_daily_from_orders",
           "evaluate_dataset", "evaluate_promotions", "event_windows", "festival_overlaps", "fit_effect",
           "marketing_daily", "summarize_by_channel", "true_festival_lifts"]


def evaluate_dataset(dataset, **options):
    """:func:`evaluate_promotions` on a loaded :class:`~channelkit.data.Dataset`: builds the channel x
    day panel from its orders (gross demand, costs and commissions; or from its supplied ``sales``
    panel when it has no orders) and uses its events and marketing tables. ``options`` pass through
    (``pre_days``, ``post_days``, ``level``, ``spend``, ...)."""
    from channelkit.data import daily_sales

    events = dataset.require("events", analysis="promotion evaluation")
    if dataset.orders is not None:
        daily = channel_daily_from_orders(dataset.orders, products=dataset.products, channels=dataset.channels)
    else:
        daily = channel_daily(daily_sales(dataset), products=dataset.products, channels=dataset.channels)
    return evaluate_promotions(daily, events, marketing=dataset.marketing, **options)
