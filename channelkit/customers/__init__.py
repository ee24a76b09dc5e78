"""Customers across channels: one view per customer, RFM segments, cohorts, lifetime value, exports.

Modules, each one concern:

- :mod:`~channelkit.customers.view`: purchases from contract orders (paid lines, net value),
  one row per customer across channels, cross-channel shoppers' share and value, 复购率;
- :mod:`~channelkit.customers.log`: purchases (customer-days) from a raw line-level log such as
  Online Retail II or CDNOW: quantity x price, returns dropped or netted, anonymous lines counted;
- :mod:`~channelkit.customers.rfm`: RFM scores 1-5 and named segments (rule table documented);
- :mod:`~channelkit.customers.cohorts`: cohort retention and Kaplan-Meier repurchase curves by
  first channel;
- :mod:`~channelkit.customers.clv`: BG/NBD + Gamma-Gamma (maximum likelihood with scipy);
- :mod:`~channelkit.customers.export`: segment export CSV with keyed pseudonyms only.

Every function takes a tidy transaction frame (``customer_id, order_ts, revenue, channel`` by
default; other names via ``customer_col=``, ``date_col=``, ``amount_col=``, ``channel_col=``).
"""
from __future__ import annotations

from channelkit.customers.cohorts import cohort_matrix, cohort_retention, repurchase_curve
from channelkit.customers.clv import (
    CLVFit,
    clv_params,
    customer_lifetime_values,
    fit_clv,
    predict_clv,
    rfm_summary,
)
from channelkit.customers.export import export_segments, pseudonymize
from channelkit.customers.log import purchases_from_log
from channelkit.customers.rfm import SEGMENT_RULES, rfm_table, segment_rules, segment_summary
from channelkit.customers.view import (
    channel_overlap,
    cross_channel_summary,
    customer_orders,
    customer_view,
    repeat_rate_by_channel,
    restrict_period,
)

__all__ = [
    "CLVFit",
    "SEGMENT_RULES",
    "channel_overlap",
    "clv_params",
    "cohort_matrix",
    "cohort_retention",
    "cross_channel_summary",
    "customer_lifetime_values",
    "customer_orders",
    "customer_view",
    "export_segments",
    "fit_clv",
    "predict_clv",
    "pseudonymize",
    "purchases_from_log",
    "repeat_rate_by_channel",
    "repurchase_curve",
    "restrict_period",
    "rfm_summary",
    "rfm_table",
    "segment_rules",
    "segment_summary",
]
