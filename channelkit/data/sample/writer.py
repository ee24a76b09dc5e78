"""Write the sample's tables as CSV or Parquet, byte-for-byte reproducible, in blocks if need be.

CSV: UTF-8 without BOM, ``\\n`` line ends, a header row, dates as ``YYYY-MM-DD`` and timestamps as
``YYYY-MM-DD HH:MM:SS`` (local shop time, no zone), empty cells for missing values.
Parquet: one file per table written through ``pyarrow.parquet.ParquetWriter`` (zstd), so a big
table is appended block by block without holding it whole in memory; ``date`` columns are
``date32``, timestamps ``timestamp[ns]`` without zone.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from channelkit.data.contract import TABLES

Format = Literal["csv", "parquet"]
_ARROW = {"string": pa.string(), "int": pa.int64(), "float": pa.float64(), "datetime": pa.timestamp("ns"),
          "date": pa.date32(), "bool": pa.bool_()}


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of a contract table (every contract column, in contract order)."""
    return pa.schema([pa.field(c.name, _ARROW[c.dtype]) for c in TABLES[table].columns])


def remove_existing(out_dir: Path, names: list[str]) -> None:
    """Delete files a previous run left for these tables (any format) and the truth file."""
    for name in names:
        for ext in ("csv", "parquet", "xlsx"):
            (out_dir / f"{name}.{ext}").unlink(missing_ok=True)
    (out_dir / "truth.json").unlink(missing_ok=True)


class TableWriter:
    """Append frames of one contract table to ``out_dir/<table>.<fmt>``; use as a context manager."""

    def __init__(self, out_dir: Path, table: str, fmt: Format) -> None:
        self.table = table
        self.fmt = fmt
        self.path = Path(out_dir) / f"{table}.{fmt}"
        self.columns = TABLES[table].column_names
        self.schema = arrow_schema(table)
        has_ts = any(c.dtype == "datetime" for c in TABLES[table].columns)
        self.date_format = "%Y-%m-%d %H:%M:%S" if has_ts else "%Y-%m-%d"
        self._pq: pq.ParquetWriter | None = None
        self._csv = None
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        """Append ``frame`` (it must have every required contract column of the table).

        Optional columns the first frame lacks (e.g. the events' ``sku``, ``display``, ``mailer``)
        are left out of the file, as a user's export would; later frames follow the first.
        """
        if self.rows == 0 and self._csv is None and self._pq is None:
            spec = TABLES[self.table]
            self.columns = [c.name for c in spec.columns if c.required or c.name in frame.columns]
            self.schema = pa.schema([f for f in self.schema if f.name in self.columns])
        frame = frame[self.columns]
        if self.fmt == "csv":
            if self._csv is None:
                self._csv = open(self.path, "w", encoding="utf-8", newline="")
                self._csv.write(",".join(self.columns) + "\n")
            frame.to_csv(self._csv, header=False, index=False, lineterminator="\n", date_format=self.date_format)
        else:
            arrays = []
            for field in self.schema:
                col = frame[field.name]
                if pa.types.is_date32(field.type):
                    col = pd.to_datetime(col).dt.date
                arrays.append(pa.array(col, type=field.type, from_pandas=True))
            batch = pa.Table.from_arrays(arrays, schema=self.schema)
            if self._pq is None:
                self._pq = pq.ParquetWriter(self.path, self.schema, compression="zstd")
            self._pq.write_table(batch)
        self.rows += len(frame)

    def close(self) -> None:
        if self.fmt == "csv" and self._csv is None:
            self.write(pd.DataFrame(columns=self.columns))
        if self._csv is not None:
            self._csv.close()
        if self.fmt == "parquet" and self._pq is None:
            self._pq = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        if self._pq is not None:
            self._pq.close()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_table(out_dir: Path, table: str, frame: pd.DataFrame, fmt: Format) -> Path:
    """Write a whole table at once; returns its path."""
    with TableWriter(out_dir, table, fmt) as writer:
        writer.write(frame)
    return writer.path


def write_truth(out_dir: Path, truth: dict) -> Path:
    """``truth.json`` (sorted keys, 1-space indent); written last, so it marks a complete folder."""
    path = Path(out_dir) / "truth.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(truth, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
