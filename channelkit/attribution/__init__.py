"""Channel attribution: journeys and path tables, rule-based models, Markov chains (exact removal
effects), Shapley values, bootstrap intervals, and the money view (CPA, ROAS, budget shifts).

Typical use::

    from channelkit import attribution as at
    journeys = at.dataset_journeys(dataset, lookback_days=30)   # or at.build_journeys(touchpoints, orders)
    paths = at.path_table(journeys)
    result = at.attribute(paths, journeys=journeys, orders=(1, 2))
"""
from channelkit.attribution.bootstrap import bootstrap_shares
from channelkit.attribution.compare import MODELS, attribute, shares_wide
from channelkit.attribution.heuristics import (
    first_touch,
    last_non_direct,
    last_touch,
    linear,
    position_based,
    time_decay,
)
from channelkit.attribution.markov import markov, removal_effects, transition_matrix
from channelkit.attribution.money import budget_suggestion, channel_economics, spend_by_channel
from channelkit.attribution.paths import (
    PATH_SEP,
    build_journeys,
    dataset_journeys,
    normalize_paths,
    path_table,
    read_paths,
    write_paths,
)
from channelkit.attribution.shapley import shapley, shapley_ordered, shapley_values
from channelkit.attribution.touches import touch_journeys

__all__ = [
    "MODELS", "PATH_SEP", "attribute", "bootstrap_shares", "budget_suggestion", "build_journeys",
    "channel_economics", "dataset_journeys", "first_touch", "last_non_direct", "last_touch", "linear", "markov",
    "normalize_paths", "path_table", "position_based", "read_paths", "removal_effects", "shapley",
    "shapley_ordered", "shapley_values", "shares_wide", "spend_by_channel", "time_decay",
    "touch_journeys", "transition_matrix", "write_paths",
]
