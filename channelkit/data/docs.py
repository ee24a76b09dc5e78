"""Generate the column tables of ``docs/data.md`` from the contract, so the docs cannot drift.

``docs/data.md`` holds the generated part between two marker lines; a test compares it with
:func:`contract_markdown`. After changing ``contract.py``, rewrite it with::

    python -m channelkit.data.docs docs/data.md
"""
from __future__ import annotations

import sys
from pathlib import Path

from channelkit.data.contract import TABLES, Column, Table
from channelkit.data.mapping import DERIVED_INPUTS, DERIVED_WHEN_ABSENT

BEGIN = "<!-- BEGIN GENERATED CONTRACT TABLES (python -m channelkit.data.docs docs/data.md) -->"
END = "<!-- END GENERATED CONTRACT TABLES -->"
_TYPE_NAMES = {"string": "text", "int": "integer", "float": "number", "datetime": "date-time",
               "date": "date", "bool": "true/false"}


def _rule(column: Column) -> str:
    parts = []
    if column.min is not None and column.max is not None:
        parts.append(f"{column.min:g} to {column.max:g}")
    elif column.min is not None:
        parts.append(f">= {column.min:g}")
    elif column.max is not None:
        parts.append(f"<= {column.max:g}")
    if column.allowed:
        parts.append("one of " + ", ".join(f"`{a}`" for a in column.allowed))
    if column.default is not None:
        parts.append(f"default `{column.default}`")
    parts.append("may be empty" if column.nullable else "never empty")
    return "; ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table_markdown(table: Table) -> str:
    """The section of one table: description, grain, key, foreign keys, columns, an example row."""
    status = "required" if table.required else "optional"
    if table.name == "orders":
        status = "required, unless a `sales` panel is supplied instead"
    lines = [
        f"### `{table.name}` ({status})",
        "",
        f"{table.description} Grain: {table.grain}. File: `{table.name}.csv`, `.parquet` or `.xlsx`.",
        "",
    ]
    if table.key:
        lines.append(f"- Unique key: {', '.join(f'`{k}`' for k in table.key)} (no two rows share it).")
    for fk in table.foreign_keys:
        kind = f" with `kind` = `{fk.ref_kind}`" if fk.ref_kind else ""
        lines.append(f"- Every `{fk.column}` must exist in `{fk.table}.{fk.ref_column}`{kind}.")
    for name, text in DERIVED_INPUTS.get(table.name, {}).items():
        lines.append(f"- Optional input `{name}` (not kept): {text}")
    lines += ["", "| column | type | required | meaning | rule | example |", "|---|---|---|---|---|---|"]
    for c in table.columns:
        derived = DERIVED_WHEN_ABSENT.get((table.name, c.name))
        required = ("yes" if c.required else "no") + (f"; if absent: {derived}" if derived else "")
        lines.append(f"| `{c.name}` | {_TYPE_NAMES[c.dtype]} | {required} | "
                     f"{_cell(c.description)} | {_cell(_rule(c))} | `{c.example}` |")
    lines += ["", "Example:", "", "```csv", ",".join(table.column_names),
              ",".join(_csv_value(c.example) for c in table.columns), "```"]
    return "\n".join(lines)


def _csv_value(value: str) -> str:
    return f'"{value}"' if "," in value or '"' in value else value


def contract_markdown() -> str:
    """The generated block of ``docs/data.md`` (markers included), from ``contract.TABLES``."""
    body = "\n\n".join(table_markdown(t) for t in TABLES.values())
    return f"{BEGIN}\n\n{body}\n\n{END}"


def generated_block(text: str) -> str:
    """The generated block as it stands in a document's ``text`` (markers included)."""
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[start:end]


def update_docs(path: str | Path) -> bool:
    """Rewrite the generated block of ``path`` from the contract; True when it changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    new = text.replace(generated_block(text), contract_markdown())
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "docs/data.md"
    print(f"{target}: {'updated' if update_docs(target) else 'already up to date'}")
