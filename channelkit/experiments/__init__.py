"""Two-variant experiments: did the variant win, by how much, and can the verdict be trusted?

- :mod:`.compare`: conversion (two-proportion z), revenue per user (Welch t, seeded bootstrap);
- :mod:`.cuped`: CUPED variance reduction with a pre-period covariate;
- :mod:`.power`: sample size, power and minimum detectable effect;
- :mod:`.sequential` and :mod:`.peeking`: alpha-spending boundaries and the stopped-early warning;
- :mod:`.srm`: the sample-ratio-mismatch check of the assignment;
- :mod:`.simulate`: a deterministic A/B test with a known true effect;
- :func:`analyze_experiment`: all of the above on one per-user table.
"""
from __future__ import annotations

from channelkit.experiments.analyze import analyze_experiment
from channelkit.experiments.compare import (RESULT_COLUMNS, bootstrap_test, conversion_test, proportions_ztest,
                                            welch_test)
from channelkit.experiments.cuped import cuped_adjust, cuped_test, cuped_theta
from channelkit.experiments.peeking import daily_history, peeking_check
from channelkit.experiments.power import (minimum_detectable_effect, power_proportions, sample_size_means,
                                          sample_size_proportions)
from channelkit.experiments.sequential import (crossing_probability, naive_peeking_alpha, spending_boundaries,
                                               spending_function)
from channelkit.experiments.simulate import simulate_ab_test
from channelkit.experiments.srm import sample_ratio_check

__all__ = [
    "RESULT_COLUMNS", "analyze_experiment", "bootstrap_test", "conversion_test", "crossing_probability",
    "cuped_adjust", "cuped_test", "cuped_theta", "daily_history", "minimum_detectable_effect",
    "naive_peeking_alpha", "peeking_check", "power_proportions", "proportions_ztest", "sample_ratio_check",
    "sample_size_means", "sample_size_proportions", "simulate_ab_test", "spending_boundaries",
    "spending_function", "welch_test",
]
