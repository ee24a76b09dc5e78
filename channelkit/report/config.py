"""The report config: a small YAML file, checked completely before any notebook runs.

Example (``config/report.yaml`` is the default ``make report`` uses)::

    data_dir: data/sample      # folder with one file per table (required)
    start: null                # first day analysed (YYYY-MM-DD); null = from the data
    end: null                  # last day analysed; null = to the end of the data
    channels: null             # sales channels to report on; null = all
    currency: CNY              # ISO 4217 code shown on every money axis
    timezone: Asia/Shanghai    # IANA zone zone-aware export times are converted to
    holidays: CN               # CN (festivals + holidays), a country code such as US, or none;
                               # the shop's own festivals in the events table always count
    max_channels: 8            # channels named in a chart; the rest are summed as "other"
    skip: []                   # notebooks left out of the report (stem or number, e.g. "04")
    horizon: 28                # forecast horizon in days
    timeout: 900               # default time limit per notebook, seconds
    notebooks:                 # per-notebook settings, keyed by file stem
      01_channel_performance:
        timeout: 300
        parameters: {price_tolerance: 0.05}

Every problem (unknown key, wrong type, missing data folder, ...) is collected and raised as one
:class:`~channelkit.errors.ConfigError` (exit code 2) that lists them all. Relative paths are taken
from the current working directory, as a shell user expects; scheduled jobs ``cd`` to the project
first (see ``docs/scheduling.md``).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
import reprlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from channelkit.data.market import market_problems
from channelkit.errors import ChannelkitError, ConfigError

DEFAULT_CONFIG_PATH = Path("config/report.yaml")
DEFAULT_TIMEOUT_S = 1800.0
# The parameters every notebook may declare; the runner passes only those a notebook declares.
COMMON_PARAMETERS = ("data_dir", "start", "end", "currency", "channels", "horizon", "timezone", "holidays",
                     "max_channels")
_TOP_KEYS = ("data_dir", "start", "end", "channels", "currency", "timezone", "holidays", "max_channels", "skip",
             "horizon", "timeout", "kernel", "notebooks_dir", "out_dir", "notebooks")
DEFAULT_MAX_CHANNELS = 8


def default_notebooks_dir() -> Path:
    """Where the report's notebooks are when the config names none.

    ``./notebooks`` when the current folder has notebooks there (a project checkout or an
    analyst's copy from ``channelkit notebooks --out notebooks``), else the default notebooks
    installed with the package (``channelkit/notebooks`` in a wheel; the checkout's
    ``notebooks/`` for an editable install or a ``PYTHONPATH`` checkout), so ``channelkit report``
    works from any folder.
    """
    local = Path("notebooks")
    if local.is_dir() and any(local.glob("*.ipynb")):
        return local.resolve()
    return packaged_notebooks_dir()


def packaged_notebooks_dir() -> Path:
    """The default notebooks that ship with channelkit (see :func:`default_notebooks_dir`)."""
    import channelkit

    package = Path(channelkit.__file__).resolve().parent
    for candidate in (package / "notebooks", package.parent / "notebooks"):
        if candidate.is_dir() and any(candidate.glob("*.ipynb")):
            return candidate
    try:  # an editable install maps channelkit.notebooks onto the checkout's notebooks/
        from importlib.resources import files

        mapped = Path(str(files("channelkit.notebooks")))
        if mapped.is_dir():
            return mapped
    except (ModuleNotFoundError, TypeError):
        pass
    return package / "notebooks"
_NOTEBOOK_KEYS = ("timeout", "parameters")


@dataclasses.dataclass(frozen=True)
class NotebookSettings:
    """Per-notebook settings: a time limit (seconds) and parameter overrides."""

    timeout: float | None = None
    parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class ReportConfig:
    """A checked report config. Paths are absolute; dates are ISO strings or ``None``."""

    data_dir: Path
    start: str | None = None
    end: str | None = None
    channels: tuple[str, ...] | None = None
    currency: str = "CNY"
    timezone: str = "Asia/Shanghai"
    holidays: str = "CN"
    max_channels: int = DEFAULT_MAX_CHANNELS
    skip: tuple[str, ...] = ()
    horizon: int = 28
    timeout: float = DEFAULT_TIMEOUT_S
    kernel: str = "channelkit"
    notebooks_dir: Path = dataclasses.field(default_factory=default_notebooks_dir)
    out_dir: Path = dataclasses.field(default_factory=lambda: Path("outputs").resolve())
    notebooks: Mapping[str, NotebookSettings] = dataclasses.field(default_factory=dict)
    source: Path | None = None

    def common_parameters(self) -> dict[str, Any]:
        """The common notebook parameters, as JSON-safe values (paths and dates as strings)."""
        return {
            "data_dir": str(self.data_dir),
            "start": self.start,
            "end": self.end,
            "currency": self.currency,
            "channels": list(self.channels) if self.channels is not None else None,
            "horizon": self.horizon,
            "timezone": self.timezone,
            "holidays": self.holidays,
            "max_channels": self.max_channels,
        }

    def timeout_for(self, notebook: str) -> float:
        """The time limit of ``notebook`` in seconds: its own, else the config's default."""
        own = self.notebooks.get(notebook)
        return own.timeout if own is not None and own.timeout is not None else self.timeout

    def overrides_for(self, notebook: str) -> dict[str, Any]:
        """The per-notebook parameter overrides of ``notebook`` (empty when none)."""
        own = self.notebooks.get(notebook)
        return dict(own.parameters) if own is not None else {}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe copy for the run manifest."""
        return {
            **self.common_parameters(),
            "skip": list(self.skip),
            "timeout": self.timeout,
            "kernel": self.kernel,
            "notebooks_dir": str(self.notebooks_dir),
            "out_dir": str(self.out_dir),
            "notebooks": {k: {"timeout": v.timeout, "parameters": dict(v.parameters)}
                          for k, v in self.notebooks.items()},
            "source": str(self.source) if self.source else None,
        }


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML config into a dict; an absent, unreadable or non-mapping file is a ConfigError."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {str(path)!r} is not valid YAML: {exc}") from exc
    except (ValueError, UnicodeDecodeError) as exc:  # `start: 2025-02-30`: YAML's date reader fails on it
        raise ConfigError(f"config file {str(path)!r}: {exc} (dates are written YYYY-MM-DD; "
                          "the file must be UTF-8)") from exc
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a mapping of keys, but got {type(raw).__name__}")
    return raw


def load_config(path: str | Path | None = None, *, overrides: Mapping[str, Any] | None = None) -> ReportConfig:
    """Read and check a report config.

    ``path=None`` reads ``config/report.yaml`` when it exists, else uses the built-in defaults
    (``data_dir: data/sample``). ``overrides`` (e.g. from ``--data``/``--out``) replace top-level
    keys before the checks, so an override is checked like the file's own values.
    """
    if path is None:
        raw = read_config_file(DEFAULT_CONFIG_PATH) if DEFAULT_CONFIG_PATH.is_file() else {}
        source = DEFAULT_CONFIG_PATH.resolve() if DEFAULT_CONFIG_PATH.is_file() else None
    else:
        raw, source = read_config_file(path), Path(path).resolve()
    raw = {**raw, **{k: v for k, v in (overrides or {}).items() if v is not None}}
    raw.setdefault("data_dir", "data/sample")
    return parse_config(raw, source=source)


def parse_config(raw: Mapping[str, Any], *, source: Path | None = None) -> ReportConfig:
    """Check ``raw`` (a dict as read from YAML) and build a :class:`ReportConfig`.

    Raises one :class:`ConfigError` listing every problem found.
    """
    problems: list[str] = []
    for key in raw:
        if key not in _TOP_KEYS:
            problems.append(f"unknown key {key!r} (known keys: {', '.join(_TOP_KEYS)})")
    values: dict[str, Any] = {"source": source}
    data_dir = _path(raw, "data_dir", problems)
    if data_dir is not None:
        if not data_dir.is_dir():
            problems.append(f"data_dir {str(data_dir)!r} is not an existing folder")
        values["data_dir"] = data_dir
    for key in ("notebooks_dir", "out_dir"):
        if key in raw and (p := _path(raw, key, problems)) is not None:
            values[key] = p
    if "notebooks_dir" in values and not values["notebooks_dir"].is_dir():
        problems.append(f"notebooks_dir {str(values['notebooks_dir'])!r} is not an existing folder")
    for key in ("start", "end"):
        values[key] = _date(raw.get(key), key, problems)
    if values["start"] and values["end"] and values["start"] > values["end"]:
        problems.append(f"start ({values['start']}) must not be after end ({values['end']})")
    values["channels"] = _channels(raw.get("channels"), problems)
    if values["channels"] and "data_dir" in values and values["data_dir"].is_dir():
        unknown, known = _unknown_channels(values["data_dir"], values["channels"])
        if unknown:
            problems.append(f"channels {list(unknown)} are not sales channels of the dataset in "
                            f"{str(values['data_dir'])!r} (it has: {', '.join(known)})")
    market = {k: raw[k] for k in ("currency", "timezone", "holidays") if k in raw}
    problems.extend(market_problems(**market))
    values.update(market)
    if "max_channels" in raw:
        values["max_channels"] = _number(raw["max_channels"], "max_channels", problems, integer=True)
    if "skip" in raw:
        values["skip"] = _names(raw["skip"], "skip", problems)
    if "horizon" in raw:
        values["horizon"] = _number(raw["horizon"], "horizon", problems, integer=True)
    if "timeout" in raw:
        values["timeout"] = _number(raw["timeout"], "timeout", problems)
    if "kernel" in raw:
        if not (isinstance(raw["kernel"], str) and raw["kernel"]):
            problems.append(f"kernel must be a kernel name such as 'channelkit', but got {raw['kernel']!r}")
        values["kernel"] = raw["kernel"]
    values["notebooks"] = _notebooks(raw.get("notebooks"), problems)
    if problems:
        where = f"config {str(source)!r}" if source else "config"
        raise ConfigError(f"{where} has {len(problems)} problem(s):\n  - " + "\n  - ".join(problems))
    return ReportConfig(**{k: v for k, v in values.items() if v is not None or k in ("start", "end", "channels")})


def _path(raw: Mapping[str, Any], key: str, problems: list[str]) -> Path | None:
    value = raw.get(key)
    if not isinstance(value, (str, Path)) or not str(value):
        problems.append(f"{key} must be a folder path, but got {value!r}")
        return None
    return Path(value).expanduser().resolve()


def _date(value: Any, key: str, problems: list[str]) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    problems.append(f"{key} must be a date written YYYY-MM-DD or null, but got {value!r}")
    return None


def _number(value: Any, key: str, problems: list[str], *, integer: bool = False) -> float | int | None:
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or not math.isfinite(value) or value <= 0:
        kind = "a positive whole number" if integer else "a positive number of seconds"
        problems.append(f"{key} must be {kind}, but got {value!r}")
        return None
    return value if integer else float(value)


def _names(value: Any, key: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and all(isinstance(v, (str, int)) and str(v) for v in value):
        return tuple(str(v) for v in value)
    problems.append(f"{key} must be a list of notebook names or numbers such as ['04'], but got {reprlib.repr(value)}")
    return ()


def _channels(value: Any, problems: list[str]) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    problems.append(f"channels must be a non-empty list of channel names or null, but got {reprlib.repr(value)}")
    return None


def _unknown_channels(folder: Path, channels: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Configured channels missing from the dataset's sales channels, and the known ones.

    A typo here would otherwise give every notebook an empty filter and a report of zeros.
    Only the small ``channels`` table is read; when it is absent or unreadable nothing is
    flagged here, because the dataset check that every run starts with reports it in full.
    """
    from channelkit.data.loaders import read_table, resolve_mapping, table_files

    try:
        mapping = resolve_mapping(folder, None).get("channels")
        files = table_files(folder, "channels", mapping)
        frame = read_table(files, "channels", mapping=mapping).frame if files else None
    except ChannelkitError:
        return [], []
    if frame is None or "channel" not in frame:
        return [], []
    sales = frame[frame["kind"].astype(str).str.strip() == "sales"] if "kind" in frame else frame
    known = sorted(sales["channel"].dropna().astype(str).str.strip().unique())
    return [c for c in channels if c not in known], known


def _notebooks(value: Any, problems: list[str]) -> dict[str, NotebookSettings]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"notebooks must map notebook names to settings, but got {reprlib.repr(value)}")
        return {}
    out: dict[str, NotebookSettings] = {}
    for name, settings in value.items():
        settings = {} if settings is None else settings
        if not isinstance(settings, dict):
            problems.append(f"notebooks.{name} must be a mapping with timeout/parameters, but got "
                            f"{reprlib.repr(settings)}")
            continue
        for key in settings:
            if key not in _NOTEBOOK_KEYS:
                problems.append(f"unknown key notebooks.{name}.{key} (known keys: {', '.join(_NOTEBOOK_KEYS)})")
        timeout = _number(settings["timeout"], f"notebooks.{name}.timeout", problems) \
            if "timeout" in settings else None
        params = settings.get("parameters") or {}
        if not isinstance(params, dict):
            problems.append(f"notebooks.{name}.parameters must be a mapping of names to values, but got "
                            f"{reprlib.repr(params)}")
            params = {}
        out[str(name)] = NotebookSettings(timeout=timeout, parameters=params)
    return out
