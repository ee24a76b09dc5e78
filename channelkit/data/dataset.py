"""The typed dataset: one attribute per contract table, ``None`` when an optional table is absent."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import pandas as pd

from channelkit.data.contract import TABLES
from channelkit.errors import InputError, MissingTableError

# What each optional table enables, for the message when an analysis asks for an absent one.
TABLE_USES: dict[str, str] = {
    "orders": "order-level analyses (customers, repeat purchase, baskets, journeys to conversion)",
    "marketing": "channel ROAS, CPC/CPA and the marketing budget analyses",
    "touchpoints": "multi-touch attribution (which marketing channel earns the sales)",
    "inventory": "stock warnings and reorder quantities",
    "events": "promotion evaluation and the seller's own promotion calendar in forecasts",
    "sales": "analyses on a supplied daily panel",
}


@dataclass(frozen=True)
class DatasetSummary:
    """Rows per table, the sales date range, channels and SKUs; ``str()`` gives a printable report."""

    rows: dict[str, int]
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    sales_channels: tuple[str, ...]
    marketing_channels: tuple[str, ...]
    skus: int
    categories: int

    def to_frame(self) -> pd.DataFrame:
        """One row per contract table: ``table``, ``rows`` (0 when absent), ``present``."""
        return pd.DataFrame(
            [{"table": t, "rows": self.rows.get(t, 0), "present": t in self.rows} for t in TABLES]
        )

    def __str__(self) -> str:
        def day(ts: pd.Timestamp | None) -> str:
            return "-" if ts is None or pd.isna(ts) else f"{ts:%Y-%m-%d}"

        width = max(len(t) for t in TABLES)
        lines = [f"  {t:<{width}}  {self.rows[t]:>12,} rows" if t in self.rows else f"  {t:<{width}}  {'absent':>17}"
                 for t in TABLES]
        return "\n".join([
            "tables:", *lines,
            f"sales from {day(self.start)} to {day(self.end)}",
            f"sales channels ({len(self.sales_channels)}): {', '.join(self.sales_channels)}",
            f"marketing channels ({len(self.marketing_channels)}): {', '.join(self.marketing_channels) or '-'}",
            f"SKUs: {self.skus:,} in {self.categories} categories",
        ])


@dataclass
class Dataset:
    """A validated dataset. Build it with :func:`channelkit.data.load_dataset`.

    ``channels`` and ``products`` are always present, and at least one of ``orders`` and
    ``sales`` (a supplied daily panel). Every contract column exists in each table's frame.
    ``path`` is the folder it came from, ``files`` the file name(s) per table, and
    ``dropped_columns`` the export columns outside the contract that were not loaded.
    ``orders`` and ``touchpoints`` hold their ids (``order_id``, ``customer_id``) as pyarrow-backed
    ``str``, and their labels (``sku``, ``channel``, ``status``) as ``object`` text, or as
    ``category`` when loaded with ``compact_labels=True`` (group those with ``observed=True``);
    see :mod:`channelkit.data.dtypes`. The other tables hold plain ``object`` text.
    """

    channels: pd.DataFrame
    products: pd.DataFrame
    orders: pd.DataFrame | None = None
    marketing: pd.DataFrame | None = None
    touchpoints: pd.DataFrame | None = None
    inventory: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    sales: pd.DataFrame | None = None
    path: Path | None = None
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dropped_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_tables(cls, tables: dict[str, pd.DataFrame], **kwargs: object) -> Dataset:
        """A dataset from contract-named frames (already typed and validated)."""
        return cls(**{name: frame for name, frame in tables.items() if name in TABLES}, **kwargs)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables present, in contract order."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name in TABLES and getattr(self, f.name) is not None}

    def require(self, name: str, *, analysis: str | None = None) -> pd.DataFrame:
        """Table ``name``, or :class:`~channelkit.errors.MissingTableError` saying who needs which file.

        ``analysis`` names the caller for the message (e.g. ``"05_attribution.ipynb"``).
        """
        if name not in TABLES:
            raise InputError(f"`{name}` is not a table of the data contract; tables: {', '.join(TABLES)}")
        frame = getattr(self, name)
        if frame is not None:
            return frame
        who = analysis or TABLE_USES.get(name, "this analysis")
        where = f" in {self.path}" if self.path is not None else ""
        columns = ", ".join(c.name for c in TABLES[name].columns if c.required)
        raise MissingTableError(
            f"{who} needs the `{name}` table ({TABLES[name].description.rstrip('.')}), which this dataset lacks: "
            f"add {name}.csv (or .parquet / .xlsx){where} with the columns {columns}; see docs/data.md#{name}"
        )

    def summary(self) -> DatasetSummary:
        """Rows per table, first and last sales day, sales and marketing channels, SKU and category counts."""
        if self.orders is not None and not self.orders.empty:
            start, end = self.orders["order_ts"].min().normalize(), self.orders["order_ts"].max().normalize()
        elif self.sales is not None and not self.sales.empty:
            start, end = self.sales["date"].min(), self.sales["date"].max()
        else:
            start = end = None
        kind = self.channels["kind"]
        return DatasetSummary(
            rows={name: len(frame) for name, frame in self.tables().items()},
            start=start,
            end=end,
            sales_channels=tuple(self.channels.loc[kind == "sales", "channel"]),
            marketing_channels=tuple(self.channels.loc[kind == "marketing", "channel"]),
            skus=int(self.products["sku"].nunique()),
            categories=int(self.products["category"].nunique()),
        )

    def __repr__(self) -> str:
        rows = ", ".join(f"{name}={len(frame):,}" for name, frame in self.tables().items())
        return f"Dataset({self.path or 'in memory'}: {rows})"
