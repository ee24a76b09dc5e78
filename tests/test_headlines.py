"""Scorecard sentences on any history: last year, else the period before, else none."""
from __future__ import annotations

import numpy as np
import pandas as pd

from channelkit.metrics.headlines import growth_basis, growth_leaders, growth_title, scorecard_answer


def _card(yoy, prior) -> pd.DataFrame:
    return pd.DataFrame({"channel": ["a", "b", "c"], "revenue": [300.0, 200.0, 100.0], "growth_yoy": yoy,
                         "growth_prior": prior, "gross_margin_rate": [0.4, 0.3, 0.2]})


def test_ten_months_of_history_fall_back_to_the_period_before():
    card = _card([np.nan] * 3, [0.10, -0.20, 0.05])  # under 13 months: no year-on-year figure at all
    basis = growth_basis(card)
    best, worst = growth_leaders(card, basis)
    assert (basis, best["channel"], worst["channel"]) == ("growth_prior", "a", "b")
    total = pd.Series({"revenue": 600.0, "growth_yoy": np.nan, "growth_prior": 0.02, "gross_margin_rate": 0.35})
    text = scorecard_answer(total, best, worst, basis=basis, period="May 2025", currency="USD", margin=False)
    assert text == ("**Answer.** In May 2025 net revenue was **600 USD**, +2.0% on the period before. **a** grew "
                    "most (+10.0% vs the period before), **b** least (-20.0%).")
    assert growth_title(best, worst, basis) == "a grew most vs the period before (+10%); b least (-20%)"


def test_year_on_year_wins_and_a_single_month_has_no_growth():
    card = _card([0.3, np.nan, -0.1], [0.0, 0.1, 0.2])
    assert growth_basis(card) == "growth_yoy"
    best, worst = growth_leaders(card, "growth_yoy")
    assert (best["channel"], worst["channel"]) == ("a", "c")  # b has no figure a year ago: skipped
    one_month = _card([np.nan] * 3, [np.nan] * 3)
    assert growth_basis(one_month) is None
    best, worst = growth_leaders(one_month, None)
    total = pd.Series({"revenue": 600.0, "gross_margin_rate": 0.35})
    assert scorecard_answer(total, best, worst, basis=None, period="May 2025", currency="CNY", margin=True) == (
        "**Answer.** In May 2025 net revenue was **600 CNY**. The data hold no earlier period to compare with. "
        "**a** sold most, **c** least. Gross margin after commission: 35.0% of revenue.")
