

def test_missing_inputs_names_the_marketing_table():
    """The report's 07 page says what is missing instead of failing (issue 20)."""
    from types import SimpleNamespace

    import pandas as pd

    from channelkit.mmm import missing_inputs

    assert "marketing.csv" in missing_inputs(SimpleNamespace(marketing=None))
    zero = pd.DataFrame({"date": ["2024-01-01"], "channel": ["search"], "spend": [0.0]})
    assert "no spend above zero" in missing_inputs(SimpleNamespace(marketing=zero))
    assert missing_inputs(SimpleNamespace(marketing=zero.assign(spend=[5.0]))) == ""
