"""What a dataset supports: for each report notebook, which of its parts can run and why not.

The one place that decides it: ``channelkit validate`` prints :meth:`Support.lines` after its
summary, and each notebook asks :meth:`Support.ok` before a part and shows :meth:`Support.note`
(one sentence: what is missing and how to add it) instead of failing.

A part needs some of: tables (present and not empty), a filled column (``products.unit_cost``),
days of sales history, identified customers, promotion rows in ``events``, festivals in the
market calendar (``holidays: CN`` or festival rows in ``events``). A notebook *cannot run* when
its first part (the core) is unavailable, *runs in part* when another is, else *runs in full*.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

YEAR_DAYS = 365


@dataclass(frozen=True)
class Need:
    """One part of a notebook and what it needs; ``what`` names the part in a sentence."""

    part: str
    what: str
    tables: tuple[str, ...] = ()
    column: str | None = None  # "table.column" that must hold values
    history_days: int = 0
    customers: bool = False
    promotions: bool = False
    festivals: bool = False
    cn_calendar: bool = False  # the part forecasts the Chinese shopping festivals themselves


# First Need of each notebook is its core. Names are notebook file stems.
NEEDS: dict[str, tuple[Need, ...]] = {
    "00_data_overview": (Need("tables", "the data overview", tables=("sales_or_orders",)),),
    "01_channel_performance": (
        Need("scorecard", "the channel scorecard", tables=("orders",)),
        Need("yoy", "growth on last year", tables=("orders",), history_days=YEAR_DAYS + 28),
        Need("margin", "margins after commission", column="products.unit_cost"),
        Need("marketing", "the marketing channel KPIs (spend, CTR, ROAS)", tables=("marketing",)),
        Need("last_touch", "orders credited to marketing channels", tables=("marketing", "touchpoints")),
        Need("anomalies", "sales anomalies", tables=("orders",), history_days=28),
        Need("inventory", "inventory risk", tables=("inventory",)),
    ),
    "02_demand_forecast": (
        Need("forecast", "the demand forecast", tables=("sales_or_orders",), history_days=56),
        Need("reorder", "the reorder list", tables=("inventory",)),
        Need("festivals", "the 618 and Double 11 outlook", tables=("sales_or_orders",), cn_calendar=True,
             history_days=YEAR_DAYS),
    ),
    "03_channel_attribution": (
        Need("attribution", "multi-touch attribution", tables=("orders", "touchpoints"), customers=True),
        Need("spend", "cost per order, ROAS and the budget suggestion", tables=("marketing",)),
    ),
    "04_price_elasticity": (
        Need("elasticity", "price elasticities", tables=("sales_or_orders",), history_days=56),
        Need("margin", "margin-maximising prices", column="products.unit_cost"),
    ),
    "05_promotions_experiments": (
        Need("experiments", "the A/B test analysis"),
        Need("promotions", "the promotion lifts", tables=("orders",), promotions=True),
        Need("margin", "promotion margins and ROI", column="products.unit_cost"),
        Need("festivals", "festival lifts", tables=("orders",), festivals=True, history_days=84),
    ),
    "06_customers": (
        Need("customers", "the customer analyses", tables=("orders",), customers=True),
        Need("clv", "customer lifetime value", tables=("orders",), customers=True, history_days=90),
    ),
}


@dataclass(frozen=True)
class Facts:
    """What a dataset holds, measured once."""

    tables: frozenset[str]
    filled: frozenset[str]  # "table.column" with at least one value
    history_days: int
    customers: bool
    promotions: bool
    festivals: bool
    cn_calendar: bool = True


def dataset_facts(dataset, *, holidays: str = "CN") -> Facts:
    """Tables present, filled optional columns, days of history, customers, promotions, festivals."""
    present = {name for name, frame in dataset.tables().items() if frame is not None and len(frame)}
    if {"orders", "sales"} & present:
        present.add("sales_or_orders")
    filled = set()
    products = dataset.products
    if products is not None and "unit_cost" in products and products["unit_cost"].notna().any():
        filled.add("products.unit_cost")
    summary = dataset.summary()
    days = int((summary.end - summary.start).days) + 1 if summary.start is not None else 0
    orders = dataset.orders
    customers = orders is not None and "customer_id" in orders and bool(orders["customer_id"].notna().any())
    events = dataset.events
    kinds = set(events["kind"].astype(str)) if events is not None and len(events) else set()
    return Facts(frozenset(present), frozenset(filled), days, customers, "promotion" in kinds,
                 holidays == "CN" or "festival" in kinds, holidays == "CN")


def _why_not(need: Need, facts: Facts) -> str:
    """Empty when ``need`` is met, else 'what is missing; how to add it' (no trailing period)."""
    for table in need.tables:
        if table not in facts.tables:
            if table == "sales_or_orders":
                return "there are no orders; add orders.csv (or a daily sales panel as sales.csv), see docs/data.md"
            return f"the `{table}` table is missing; add {table}.csv to the data folder (docs/data.md#{table})"
    if need.column and need.column not in facts.filled:
        table, column = need.column.split(".")
        return f"`{column}` is empty in {table}; add the landed cost per unit as column `{column}` of {table}.csv"
    if need.customers and not facts.customers:
        return "no order carries a customer id; map the export's buyer or member id to `customer_id`"
    if need.promotions and not facts.promotions:
        return ("the events table has no promotion; add rows with kind `promotion` (date, event, channel or sku) "
                "to events.csv")
    if need.cn_calendar and not facts.cn_calendar:
        return "the market calendar is not China's; it shows with `holidays: CN` in the report config"
    if need.festivals and not facts.festivals:
        return "the calendar has no festival; set `holidays: CN` in the config or add festival rows to events.csv"
    if need.history_days and facts.history_days < need.history_days:
        return (f"it needs {need.history_days} days of sales history and the data cover {facts.history_days}; "
                f"add older orders")
    return ""


class Support:
    """The parts of every notebook a dataset supports (see the module docstring)."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        rows = [{"notebook": nb, "part": n.part, "what": n.what, "core": i == 0, "reason": _why_not(n, facts)}
                for nb, needs in NEEDS.items() for i, n in enumerate(needs)]
        self.table = pd.DataFrame(rows)
        self.table["available"] = self.table["reason"] == ""

    def _row(self, notebook: str, part: str) -> pd.Series:
        hit = self.table[(self.table["notebook"] == notebook) & (self.table["part"] == part)]
        if hit.empty:
            from channelkit.errors import InputError
            known = ", ".join(self.table.loc[self.table["notebook"] == notebook, "part"]) or "none"
            raise InputError(f"no part {part!r} in notebook {notebook!r} (parts: {known})")
        return hit.iloc[0]

    def ok(self, notebook: str, part: str) -> bool:
        """True when ``part`` of ``notebook`` can run on this dataset."""
        return bool(self._row(notebook, part)["available"])

    def note(self, notebook: str, part: str) -> str:
        """One sentence for the page when ``part`` cannot run ('' when it can)."""
        row = self._row(notebook, part)
        return "" if row["available"] else f"**Not shown: {row['what']}.** {row['reason'][0].upper()}{row['reason'][1:]}."

    def status(self, notebook: str) -> tuple[str, str]:
        """``("full" | "part" | "none", explanation)`` for one notebook."""
        rows = self.table[self.table["notebook"] == notebook]
        if rows.empty:
            return "unknown", "not described in channelkit.data.support"
        core = rows.iloc[0]
        if not core["available"]:
            return "none", f"{core['reason']}"
        missing = rows[~rows["available"]]
        if missing.empty:
            return "full", ""
        return "part", "; ".join(f"without {r.what}: {r.reason}" for r in missing.itertuples())

    def lines(self, notebooks: list[str] | None = None) -> list[str]:
        """One line per notebook: runs in full / runs in part (what, why) / cannot run (why)."""
        out = []
        for nb in notebooks or list(NEEDS):
            status, why = self.status(nb)
            text = {"full": "runs in full", "part": f"runs in part ({why})", "none": f"cannot run ({why})",
                    "unknown": f"not checked ({why})"}[status]
            out.append(f"{nb}: {text}")
        return out


def data_support(dataset, *, holidays: str = "CN") -> Support:
    """What ``dataset`` supports, notebook by notebook, for the market calendar ``holidays``."""
    return Support(dataset_facts(dataset, holidays=holidays))
