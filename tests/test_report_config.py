"""The report config: every problem in one ConfigError (exit code 2), before anything runs."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from channelkit.cli import main
from channelkit.errors import ConfigError
from channelkit.report.config import COMMON_PARAMETERS, load_config, parse_config

ROOT = Path(__file__).resolve().parents[1]


def test_valid_config_is_normalised(tmp_path):
    (tmp_path / "data").mkdir()
    cfg = parse_config({"data_dir": str(tmp_path / "data"), "start": dt.date(2025, 1, 1), "end": "2025-03-31",
                        "channels": ["tmall", "jd"], "currency": "EUR", "horizon": 14, "timeout": 60,
                        "notebooks": {"01_x": {"timeout": 5, "parameters": {"alpha": 0.1}}}})
    assert cfg.data_dir == (tmp_path / "data").resolve()
    assert (cfg.start, cfg.end, cfg.channels, cfg.horizon) == ("2025-01-01", "2025-03-31", ("tmall", "jd"), 14)
    assert cfg.timeout_for("01_x") == 5.0 and cfg.timeout_for("02_y") == 60.0
    assert cfg.overrides_for("01_x") == {"alpha": 0.1} and cfg.overrides_for("02_y") == {}
    params = cfg.common_parameters()
    assert set(params) == set(COMMON_PARAMETERS) and params["channels"] == ["tmall", "jd"]
    assert params["data_dir"] == str((tmp_path / "data").resolve())


def test_every_problem_is_listed_at_once(tmp_path):
    raw = {"data_dir": str(tmp_path / "missing"), "horizn": 28, "start": "2025-13-01", "currency": "yuan",
           "horizon": "28", "timeout": -1, "channels": "tmall", "notebooks": {"01_x": {"timout": 3}}}
    with pytest.raises(ConfigError) as info:
        parse_config(raw)
    text = str(info.value)
    assert "8 problem(s)" in text
    for expected in ("unknown key 'horizn'", "is not an existing folder", "start must be a date written YYYY-MM-DD",
                     "currency must be a 3-letter ISO 4217 code such as 'CNY', but got 'yuan'",
                     "horizon must be a positive whole number, but got '28'",
                     "timeout must be a positive number of seconds, but got -1",
                     "channels must be a non-empty list", "unknown key notebooks.01_x.timout"):
        assert expected in text
    assert info.value.exit_code == 2


def test_start_after_end(tmp_path):
    with pytest.raises(ConfigError, match=r"start \(2025-02-01\) must not be after end \(2025-01-01\)"):
        parse_config({"data_dir": str(tmp_path), "start": "2025-02-01", "end": "2025-01-01"})


def test_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="config file .*nope.yaml' does not exist"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("data_dir: [unclosed\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_config(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="must hold a mapping of keys, but got list"):
        load_config(bad)


def test_overrides_replace_file_values_and_are_checked(tmp_path):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text(f"data_dir: {tmp_path}\nout_dir: {tmp_path / 'o'}\n")
    cfg = load_config(cfg_file, overrides={"data_dir": None, "out_dir": str(tmp_path / "elsewhere")})
    assert cfg.out_dir == (tmp_path / "elsewhere").resolve() and cfg.data_dir == tmp_path.resolve()
    with pytest.raises(ConfigError, match="data_dir .*no-such-data' is not an existing folder"):
        load_config(cfg_file, overrides={"data_dir": str(tmp_path / "no-such-data")})


def test_shipped_default_config_parses(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # its paths are relative to the project root, as `make report` runs it
    cfg = load_config(ROOT / "config" / "report.yaml", overrides={"data_dir": str(tmp_path)})
    assert cfg.currency == "CNY" and cfg.horizon > 0
    assert "01_channel_performance" in cfg.notebooks


def test_cli_exits_2_with_one_message(tmp_path, capsys):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text(f"data_dir: {tmp_path / 'missing'}\ncolour: blue\n")
    assert main(["report", "--config", str(cfg_file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("channelkit report: error: config") and "unknown key 'colour'" in err
    assert "missing' is not an existing folder" in err


def test_channels_are_checked_against_the_dataset(tmp_path):
    # A typo in `channels` would filter every notebook down to nothing: the config check names it.
    data = tmp_path / "shop"
    data.mkdir()
    (data / "channels.csv").write_text("channel,kind,type,name,commission_rate\n"
                                       "tmall,sales,marketplace,Tmall,0.05\njd,sales,marketplace,JD,0.06\n"
                                       "search,marketing,search,Search ads,0\n", encoding="utf-8")
    assert parse_config({"data_dir": str(data), "channels": ["tmall", "jd"]}).channels == ("tmall", "jd")
    with pytest.raises(ConfigError, match=r"channels \['tmal', 'search'\] are not sales channels .* \(it has: jd, tmall\)"):
        parse_config({"data_dir": str(data), "channels": ["tmal", "jd", "search"]})


def test_market_settings_channels_and_skip(tmp_path):
    (tmp_path / "data").mkdir()
    cfg = parse_config({"data_dir": str(tmp_path / "data"), "currency": "USD", "timezone": "America/Chicago",
                        "holidays": "US", "max_channels": 5, "skip": ["04", "06_customers"]})
    params = cfg.common_parameters()
    assert (params["currency"], params["timezone"], params["holidays"], params["max_channels"]) == \
        ("USD", "America/Chicago", "US", 5)
    assert cfg.skip == ("04", "06_customers")
    defaults = parse_config({"data_dir": str(tmp_path / "data")})
    assert (defaults.timezone, defaults.holidays, defaults.max_channels, defaults.skip) == ("Asia/Shanghai", "CN", 8, ())
    with pytest.raises(ConfigError) as info:
        parse_config({"data_dir": str(tmp_path / "data"), "timezone": "Mars/Base", "holidays": "XX",
                      "max_channels": 0, "skip": {"a": 1}})
    text = str(info.value)
    assert "4 problem(s)" in text
    for expected in ("timezone must be an IANA time zone such as 'Asia/Shanghai'", "but got 'Mars/Base'",
                     "holidays must be 'CN', another country code", "but got 'XX'",
                     "max_channels must be a positive whole number, but got 0",
                     "skip must be a list of notebook names or numbers"):
        assert expected in text, expected


def test_notebooks_are_found_outside_the_project(tmp_path, monkeypatch):
    # From a folder without notebooks/, the report uses the notebooks installed with channelkit.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    cfg = parse_config({"data_dir": "data"})
    assert (cfg.notebooks_dir / "01_channel_performance.ipynb").is_file()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_mine.ipynb").write_text("{}")
    assert parse_config({"data_dir": "data"}).notebooks_dir == (tmp_path / "notebooks").resolve()
