"""Check a dataset against the contract and report *every* problem at once.

A problem names the table and file, the column, the rule broken, the number of offending rows
and up to five example rows (with their line in the file: the header is line 1). Checks, in
order, all vectorised so that millions of rows take seconds:

1. files: a required table without a file (``orders`` may be replaced by a ``sales`` panel),
   several files for one table, a file that cannot be read (encoding, broken CSV), no data rows,
   headers of which none is a contract column (a column mapping is needed: the message lists the
   columns expected);
2. columns: required columns missing; cells that are not of the column's type (numbers, dates,
   unparseable dates, time zones mixed with naive times), see :mod:`channelkit.data.coerce`;
3. values (the rules of the pandera schemas in :mod:`channelkit.data.schemas`, computed over the
   column arrays by :mod:`channelkit.data.checks`): empty cells, ranges, allowed values, row
   rules such as ``clicks <= impressions``, duplicate keys;
4. numbers: every number finite (no ``inf``) and of absolute value at most a limit (default
   :data:`DEFAULT_MAX_ABS`, ``1e12``: no real price, amount or count comes near it, and a ``1e300``
   price would make revenue ``inf``); ``limits={"unit_price": 5e4, "orders.units": 1e4}`` sets
   limits per column or ``table.column`` (``channelkit validate --limit unit_price=50000``);
5. cross-table keys: every order's SKU is in ``products`` and its channel is a *sales* channel
   in ``channels`` (and likewise for the other tables' foreign keys in the contract).
"""
from __future__ import annotations

import reprlib
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import pandas as pd
import pyarrow

from channelkit.data.checks import KEY_RULE, table_failures
from channelkit.data.coerce import Issue, coerce_column
from channelkit.data.contract import TABLES
from channelkit.data.dataset import Dataset
from channelkit.data.dtypes import is_arrow_text, labels_to_object, set_text_dtypes
from channelkit.data.loaders import (
    TABLE_SUFFIXES, FileReadError, RawTable, derive_columns, read_table, resolve_mapping, table_files,
)
from channelkit.data.mapping import DERIVED_WHEN_ABSENT, TableMapping
from channelkit.errors import ConfigError, DataValidationError

MAX_EXAMPLES = 5
DEFAULT_MAX_ABS = 1e12  # see the module docstring: beyond any real price, amount or count


@dataclass(frozen=True, eq=False)
class Problem:
    """One broken rule: where (table, file, column), what (rule), how often (count), examples."""

    table: str
    file: str
    rule: str
    column: str | None = None
    count: int = 0
    examples: pd.DataFrame | None = None

    def __str__(self) -> str:
        where = f"{self.table} ({self.file})" if self.file else self.table
        column = f", column `{self.column}`" if self.column else ""
        rows = f" [{self.count} row{'s' if self.count != 1 else ''}]" if self.count else ""
        text = f"{where}{column}: {self.rule}{rows}"
        if self.examples is not None and len(self.examples):
            shown = self.examples.to_string(index=False, max_colwidth=40)
            text += "\n" + textwrap.indent(shown, "      ")
        return text


def _locate(raw: RawTable, index: pd.Index) -> list[object]:
    """File line (header = line 1) or Parquet row of each index; ``file:line`` for several files."""
    out: list[object] = []
    for i in index:
        name, start, kind = next(s for s in reversed(raw.sources) if s[1] <= i)
        number = i - start + (2 if kind == "line" else 1)
        out.append(number if len(raw.sources) == 1 else f"{name}:{number}")
    return out


def _examples(raw: RawTable, typed: pd.DataFrame, rows: pd.Index, columns: list[str]) -> pd.DataFrame:
    """Up to five offending rows: key columns and the offending column(s), as written in the file."""
    spec = TABLES[raw.table]
    rows = rows[:MAX_EXAMPLES]
    wanted = list(dict.fromkeys([c for c in spec.key if c != "customer_id"] + columns))
    wanted = [c for c in wanted if c in typed.columns or c in raw.frame.columns]
    shown = pd.DataFrame(index=rows)
    for c in wanted:
        source = raw.frame if c in raw.frame.columns else typed
        values = source.loc[rows, c]
        if is_arrow_text(values):
            values = values.astype(object).where(values.notna(), None)  # empty cells as Arrow text shows them
        shown[c] = values.to_numpy()
    label = "line" if raw.sources and raw.sources[0][2] == "line" else "row"
    shown.insert(0, label, _locate(raw, rows))
    return shown.reset_index(drop=True)


def _file_label(raw: RawTable) -> str:
    return ", ".join(s[0] for s in raw.sources)


def _problem(raw: RawTable, typed: pd.DataFrame, rule: str, columns: list[str], rows: pd.Index,
             count: int | None = None) -> Problem:
    return Problem(table=raw.table, file=_file_label(raw), rule=rule, column=", ".join(columns) or None,
                   count=len(rows) if count is None else count, examples=_examples(raw, typed, rows, columns))


def prepare_table(raw: RawTable, *, products: pd.DataFrame | None = None
                  ) -> tuple[pd.DataFrame, list[Problem], set[str], dict[str, pd.Index]]:
    """Type every column and derive the optional ones.

    Returns the typed frame, its problems, the required columns that are missing, and per column
    the rows whose cells could not be typed (so they are not reported again as empty).
    """
    spec = TABLES[raw.table]
    file = _file_label(raw)
    problems: list[Problem] = []
    if raw.frame.shape[1] == 0 and raw.headers:
        expected = [c.name for c in spec.columns if c.required] or spec.column_names
        rule = (f"none of the file's headers {reprlib.repr(list(raw.headers))} is a column of {raw.table}: a column "
                f"mapping is needed (columns.yaml: `{raw.table}: {{your header: contract column}}`); expected "
                f"columns: {', '.join(expected)} (optional: "
                f"{', '.join(c.name for c in spec.columns if not c.required) or 'none'})")
        return raw.frame, [Problem(raw.table, file, rule)], set(), {}
    if len(raw.frame) == 0:
        rule = "has no data rows; add the rows, or remove the file if there is no such data"
        return raw.frame, [Problem(raw.table, file, rule)], set(), {}
    columns: dict[str, pd.Series] = {}
    found: list[tuple[str, Issue]] = []
    for name in raw.frame.columns:
        dtype = spec.column(name).dtype if name in spec.column_names else "float"  # derived inputs are amounts
        columns[name], issues = coerce_column(raw.frame[name], dtype, trimmed=name in raw.trimmed)
        found += [(name, issue) for issue in issues]
    # One frame over the typed columns, without copying them (DataFrame() copies a dict by default).
    typed = pd.DataFrame(columns, index=raw.frame.index, copy=False)
    del columns
    bad_rows: dict[str, pd.Index] = {}
    for name, issue in found:
        rows = issue.rows[issue.rows].index
        problems.append(_problem(raw, typed, issue.rule, [name], rows, issue.count))
        if issue.count is None:
            bad_rows[name] = bad_rows.get(name, pd.Index([])).union(rows)
    typed = set_text_dtypes(raw.table, derive_columns(raw.table, typed, products=products))
    for name in set(typed.columns) - set(raw.frame.columns):
        # A derived cell is empty only when its inputs are bad (unknown SKU, 0 units): reported there.
        bad_rows[name] = typed.index[typed[name].isna().to_numpy()]
    missing = {c.name for c in spec.columns if c.required and c.name not in typed.columns}
    for name in sorted(missing, key=spec.column_names.index):
        alternative = DERIVED_WHEN_ABSENT.get((raw.table, name))
        hint = f", and it cannot be derived from {alternative}" if alternative else ""
        problems.append(Problem(
            raw.table, file, f"required column is missing{hint}; the file has: "
            f"{reprlib.repr(list(raw.headers or raw.frame.columns))} (map your header to `{name}` in columns.yaml)",
            column=name,
        ))
    return typed, problems, missing, bad_rows


def check_values(raw: RawTable, typed: pd.DataFrame, *, missing: set[str] = frozenset(),
                 already_bad: dict[str, pd.Index] | None = None) -> list[Problem]:
    """The contract's value rules (empty cells, ranges, allowed values, row rules, unique key) as problems.

    The rules of the pandera schema (:func:`~channelkit.data.schemas.table_schema`), computed by
    :mod:`channelkit.data.checks` over the column arrays. Cells that could not be typed (in
    ``already_bad``) are not reported again as empty.
    """
    if typed.empty:
        return []
    spec = TABLES[raw.table]
    problems = []
    for failure in table_failures(raw.table, typed):
        columns = list(failure.columns)
        rows = typed.index[failure.rows]
        if failure.rule == KEY_RULE:
            if set(columns) & missing:
                continue  # a key with a missing column cannot be judged
            rows = typed.loc[rows, columns].sort_values(columns).index
            grain = spec.grain.replace("one row per ", "")
            rule = f"duplicate key ({', '.join(spec.key)}): each {grain} must appear once"
        elif failure.rule == "not_nullable":
            rows = rows.difference((already_bad or {}).get(columns[0], pd.Index([])))
            rule = "must not be empty"
        elif failure.found:
            rule = (f"{failure.rule}; found {reprlib.repr(list(failure.found))} (recode them under "
                    f"`values: {columns[0]}:` in columns.yaml)")
        else:
            rule = failure.rule
        if len(rows):
            problems.append(_problem(raw, typed, rule, columns, rows))
    return problems


def check_limits(limits: Mapping[str, float] | None) -> dict[str, float]:
    """``limits`` checked: keys name a contract column (``column`` or ``table.column``), values > 0."""

    out: dict[str, float] = {}
    columns = {c.name for t in TABLES.values() for c in t.columns}
    for key, value in (limits or {}).items():
        table, _, column = str(key).rpartition(".")
        known = (column in TABLES[table].column_names) if table in TABLES else (not table and column in columns)
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        if not known or not np.isfinite(number) or number <= 0:
            raise ConfigError(f"limit {key}={value!r}: the key must name a contract column (`unit_price` or "
                              "`orders.unit_price`) and the value be a positive number")
        out[str(key)] = number
    return out


def check_numbers(raw: RawTable, typed: pd.DataFrame, *, limits: Mapping[str, float] | None = None) -> list[Problem]:
    """Numbers that are not finite (``inf``) or larger in absolute value than their limit.

    The limit of a column is ``limits["table.column"]``, else ``limits["column"]``, else
    :data:`DEFAULT_MAX_ABS`.
    """
    limits = limits or {}
    spec = TABLES[raw.table]
    problems = []
    for column in spec.columns:
        if column.dtype not in ("float", "int") or column.name not in typed.columns:
            continue
        values = pd.to_numeric(typed[column.name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        limit = limits.get(f"{raw.table}.{column.name}", limits.get(column.name, DEFAULT_MAX_ABS))
        infinite = np.isinf(values)
        huge = ~infinite & (np.abs(np.nan_to_num(values)) > limit)
        if infinite.any():
            problems.append(_problem(raw, typed, "must be a finite number, but some cells are inf or -inf",
                                     [column.name], typed.index[infinite]))
        if huge.any():
            problems.append(_problem(raw, typed, f"has absurd values beyond ±{limit:g} (the limit for "
                                     f"`{column.name}`; change it with `--limit {column.name}=...`)",
                                     [column.name], typed.index[huge]))
    return problems


def check_foreign_keys(raws: dict[str, RawTable], typed: dict[str, pd.DataFrame]) -> list[Problem]:
    """Every value of a foreign-key column must exist in the referenced table (of the right kind)."""
    problems = []
    for name, frame in typed.items():
        for fk in TABLES[name].foreign_keys:
            ref = typed.get(fk.table)
            if ref is None or ref.empty or frame.empty or fk.column not in frame or fk.ref_column not in ref:
                continue
            allowed = ref[fk.ref_column]
            what = fk.table
            if fk.ref_kind is not None and "kind" in ref:
                allowed = allowed[ref["kind"] == fk.ref_kind]
                what = f"{fk.ref_kind} channels in {fk.table}"
            values = frame[fk.column]
            bad = values.notna() & ~values.isin(pd.unique(allowed))
            if bad.any():
                unknown = reprlib.repr(sorted(values[bad].astype(str).unique()))
                rule = f"values not found among the {what} ({_file_label(raws[fk.table])}): {unknown}"
                problems.append(_problem(raws[name], frame, rule, [fk.column], frame.index[bad.to_numpy()]))
    return problems


def _ambiguous(table: str, files: list[Path], maps: dict[str, TableMapping]) -> bool:
    """Several default-named files for one table (``orders.csv`` and ``orders.xlsx``): which one is meant?"""
    return len(files) > 1 and not (table in maps and maps[table].files)


def _find_files(folder: Path, maps: dict[str, TableMapping]) -> tuple[dict[str, list[Path]], list[Problem]]:
    files = {name: table_files(folder, name, maps.get(name)) for name in TABLES}
    problems = []
    has_panel = bool(files["sales"])
    listing = reprlib.repr(sorted(p.name for p in folder.iterdir() if p.suffix.lower() in TABLE_SUFFIXES))
    for name, spec in TABLES.items():
        if _ambiguous(name, files[name], maps):
            problems.append(Problem(name, ", ".join(p.name for p in files[name]),
                                    "several files for one table; keep one (or list them under `file:` in columns.yaml)"))
        if spec.required and not files[name] and not (name == "orders" and has_panel):
            also = " (or a daily panel as sales.csv)" if name == "orders" else ""
            problems.append(Problem(name, f"{name}.csv", f"required file is missing: add {name}.csv, .parquet or "
                                    f".xlsx{also} to {folder}, or name your file under `{name}: file:` in columns.yaml; "
                                    f"the folder has: {listing}"))
    return files, problems


def check_folder(path: str | Path, *, mapping: str | Path | dict[str, TableMapping] | None = None,
                 compact_labels: bool = False, limits: Mapping[str, float] | None = None
                 ) -> tuple[Dataset | None, list[Problem]]:
    """Read and check every table of a dataset folder: the dataset (``None`` if any problem) and all problems.

    ``compact_labels`` keeps the label columns of orders and touchpoints as categories (see
    :func:`~channelkit.data.load_dataset`); ``limits`` sets the largest absolute value per column
    (see :func:`check_numbers`; default :data:`DEFAULT_MAX_ABS` for every number).
    """
    limits = check_limits(limits)
    folder = Path(path)
    if not folder.is_dir():
        raise ConfigError(f"dataset folder {folder} does not exist or is not a folder")
    maps = resolve_mapping(folder, mapping)
    files, problems = _find_files(folder, maps)
    raws: dict[str, RawTable] = {}
    for name, paths in files.items():
        if paths and not _ambiguous(name, paths, maps):
            try:
                raws[name] = read_table(paths, name, mapping=maps.get(name))
            except FileReadError as exc:
                problems.append(Problem(name, exc.file or ", ".join(p.name for p in paths), exc.reason))
    typed, table_problems = check_tables(raws, limits=limits)
    problems += table_problems
    if problems:
        return None, problems
    if not compact_labels:
        typed = {name: labels_to_object(name, frame) for name, frame in typed.items()}
    pyarrow.default_memory_pool().release_unused()  # hand the readers' freed buffers back to the system
    dropped = {name: raw.dropped for name, raw in raws.items() if raw.dropped}
    return Dataset.from_tables(typed, path=folder, files={n: tuple(s[0] for s in r.sources) for n, r in raws.items()},
                               dropped_columns=dropped), []


def check_tables(raws: dict[str, RawTable], *, limits: Mapping[str, float] | None = None
                 ) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Type and check raw tables (in contract order), then their cross-table keys."""
    typed: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for name in TABLES:
        if name not in raws:
            continue
        frame, found, missing, bad_rows = prepare_table(raws[name], products=typed.get("products"))
        problems += found + check_values(raws[name], frame, missing=missing, already_bad=bad_rows)
        if len(frame):
            problems += check_numbers(raws[name], frame, limits=limits)
        typed[name] = frame
    problems += check_foreign_keys(raws, typed)
    return typed, problems


def validate_dataset(source: str | Path | Dataset, *, mapping: str | Path | None = None) -> list[Problem]:
    """Every problem of a dataset folder, or of a loaded :class:`Dataset` whose frames were edited.

    Returns an empty list when the data meet the contract (it never raises for bad data; use
    :func:`~channelkit.data.load_dataset` or :func:`raise_for_problems` for that).
    """
    if isinstance(source, Dataset):
        raws = {name: RawTable(name, frame.reset_index(drop=True), ((f"{name} (in memory)", 0, "row"),),
                               present=frozenset(frame.columns))
                for name, frame in source.tables().items()}
        return check_tables(raws)[1]
    return check_folder(source, mapping=mapping)[1]


def format_problems(problems: list[Problem], *, source: str | Path | None = None) -> str:
    """One readable message: a headline, then every problem (tables in contract order)."""
    order = {name: i for i, name in enumerate(TABLES)}
    problems = sorted(problems, key=lambda p: order.get(p.table, len(order)))
    tables = ", ".join(dict.fromkeys(p.table for p in problems))
    where = f"{source}: " if source is not None else ""
    head = (f"{where}{len(problems)} data problem{'s' if len(problems) != 1 else ''} in {tables}; nothing was "
            "loaded. Lines count the header as line 1; see docs/data.md for the contract.")
    return "\n\n".join([head] + [f"- {p}" for p in problems])


def raise_for_problems(problems: list[Problem], *, source: str | Path | None = None) -> None:
    """Raise one :class:`~channelkit.errors.DataValidationError` listing all ``problems`` (if any)."""
    if problems:
        raise DataValidationError(format_problems(problems, source=source), problems)
