"""Price elasticity and pricing: own- and cross-price elasticities per SKU x channel, pooling,
double machine learning, optimal prices under business rules and a scenario simulator.

    from channelkit.elasticity import estimate_elasticities, partial_pool, recommend_prices
    est = estimate_elasticities(panel)                       # PPML, channel(x category) x date effects
    pooled = partial_pool(est.merge(products[["sku", "category"]], on="sku"))

Modules: ``design`` (panel preparation, identification, calendar controls), ``solver``
(vectorised fixed-effects fit), ``covariance`` (exact robust standard errors), ``estimate``
(own-price elasticities), ``fixest`` (the same model fitted by pyfixest), ``pooling`` (empirical
Bayes), ``dml`` (double machine learning), ``cross`` (cross-price), ``pricing`` (optimal
prices and rules, the observed price range), ``scenario`` (what-if simulator), ``standard``
(the field's per-brand store + week fixed-effects regressions, for comparison).
"""
from __future__ import annotations

from channelkit.elasticity.cross import cross_channel_elasticities, cross_price_matrix
from channelkit.elasticity.design import identification, prepare_panel
from channelkit.elasticity.estimate import estimate_elasticities
from channelkit.elasticity.pooling import partial_pool
from channelkit.elasticity.pricing import (PriceRules, observed_price_range, optimal_price, price_steps,
                                          recommend_prices, rule_counts)
from channelkit.elasticity.scenario import baseline_from_panel, simulate_scenario
from channelkit.elasticity.standard import standard_elasticities

__all__ = [
    "estimate_elasticities", "partial_pool", "cross_channel_elasticities", "cross_price_matrix",
    "identification", "prepare_panel", "PriceRules", "optimal_price", "recommend_prices",
    "baseline_from_panel", "simulate_scenario", "observed_price_range", "rule_counts", "price_steps", "standard_elasticities",
]
