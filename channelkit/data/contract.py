"""The data contract: every table channelkit reads, its columns, types, ranges and keys.

This module is the single source of truth. The pandera schemas (``schemas.py``), the loaders,
the sample generator and ``docs/data.md`` all follow it. Names are the contract's; a user's own
export headers are mapped onto them with a column-mapping file (see ``loaders.py``).

Conventions
- Timestamps are local shop time without a zone, as marketplace back-ends export them. A
  zone-aware column is converted to the shop's time zone (the report config's ``timezone``,
  Asia/Shanghai by default; see ``channelkit.data.market``) and the zone dropped.
- Money is in the dataset's currency (one currency per dataset), as a plain number.
- ``orders`` is the grain of record; the daily ``sales`` panel is derived from it (or supplied
  directly by a user who only has a panel).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DType = Literal["string", "int", "float", "datetime", "date", "bool"]

SALES_CHANNEL_TYPES = ("marketplace", "own_store", "live_commerce", "social_commerce", "offline", "wholesale")
MARKETING_CHANNEL_TYPES = ("search", "social", "kol", "email_sms", "affiliate", "display", "direct")
ORDER_STATUSES = ("paid", "cancelled", "refunded")
EVENT_KINDS = ("holiday", "festival", "promotion")
# What a product-level promotion did in the store or the ad (scanner data: display, feature/mailer).
PROMOTION_FLAGS = ("display", "mailer")


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    dtype: DType
    description: str
    example: str
    required: bool = True  # the column must be present in the file
    nullable: bool = False  # empty cells are allowed
    min: float | None = None  # inclusive lower bound
    max: float | None = None  # inclusive upper bound
    allowed: tuple[str, ...] | None = None
    default: object | None = None  # value used when an optional column is absent


@dataclass(frozen=True)
class ForeignKey:
    """``column`` of this table must exist in ``table.ref_column`` (optionally filtered)."""

    column: str
    table: str
    ref_column: str
    # Only rows of the referenced table with this kind count (e.g. orders need a *sales* channel).
    ref_kind: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    grain: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    required: bool = False
    foreign_keys: tuple[ForeignKey, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


CHANNELS = Table(
    name="channels",
    description="Every sales and marketing channel the seller uses.",
    grain="one row per channel",
    key=("channel",),
    required=True,
    columns=(
        Column("channel", "string", "Channel id used in every other table.", "tmall"),
        Column("kind", "string", "`sales` (where orders are placed) or `marketing` (where traffic is bought).",
               "sales", allowed=("sales", "marketing")),
        Column("type", "string", "Channel family: " + ", ".join(SALES_CHANNEL_TYPES + MARKETING_CHANNEL_TYPES) + ".",
               "marketplace", allowed=SALES_CHANNEL_TYPES + MARKETING_CHANNEL_TYPES),
        Column("name", "string", "Display name for reports.", "Tmall flagship store", required=False,
               nullable=True),
        Column("commission_rate", "float", "Share of revenue the channel keeps (佣金); 0 for marketing channels.",
               "0.05", min=0.0, max=0.99, required=False, default=0.0),
    ),
)

PRODUCTS = Table(
    name="products",
    description="The catalogue.",
    grain="one row per SKU",
    key=("sku",),
    required=True,
    columns=(
        Column("sku", "string", "Merchant SKU code (商家编码).", "SKU-0001"),
        Column("name", "string", "Product name.", "Jasmine green tea 250g", required=False, nullable=True),
        Column("category", "string", "Category used for pooling and roll-ups.", "tea"),
        Column("brand", "string", "Brand.", "Hillside", required=False, nullable=True),
        Column("unit_cost", "float", "Landed cost per unit (before channel commission). Optional: without it "
               "the report leaves out every margin figure and says so.", "21.5", min=0.0, required=False,
               nullable=True),
        Column("list_price", "float", "Recommended retail price per unit; 0 for a free item (gift, sample).",
               "49.0", min=0.0),
    ),
)

ORDERS = Table(
    name="orders",
    description="Order lines from every sales channel (marketplace back-ends, own shop, stores).",
    grain="one row per order line (order x SKU)",
    key=("order_id", "sku"),
    required=True,
    foreign_keys=(
        ForeignKey("sku", "products", "sku"),
        ForeignKey("channel", "channels", "channel", ref_kind="sales"),
    ),
    columns=(
        Column("order_id", "string", "Order number (订单编号).", "TM20250611000123"),
        Column("sku", "string", "Merchant SKU code (商家编码).", "SKU-0001"),
        Column("order_ts", "datetime", "Payment time (付款时间), local time without zone.", "2025-06-11 20:14:05"),
        Column("customer_id", "string", "Pseudonymous customer id (never a name, phone or e-mail); empty for "
               "anonymous walk-in sales.", "C000123", nullable=True),
        Column("channel", "string", "Sales channel of the order (a `sales` channel in channels).", "tmall"),
        Column("units", "int", "Units bought (购买数量); returns are recorded with status `refunded`, never as "
               "negative units.", "2", min=1),
        Column("unit_price", "float", "Price actually paid per unit after discounts (实付金额 / units); 0 for "
               "a free item (gift with purchase, sample): free units count as units, never in prices.", "39.2",
               min=0.0),
        Column("list_price", "float", "The channel's shelf price per unit before promotion discounts; 0 for an "
               "item that is always free.", "49.0", min=0.0),
        Column("discount", "float", "Promotion discount as a share of the shelf price: 1 - unit_price/list_price. "
               "Derived when absent; empty when the shelf price is 0.", "0.2", min=0.0, max=1.0, required=False,
               nullable=True),
        Column("status", "string", "`paid`, `cancelled` (never shipped: excluded from every metric) or `refunded` "
               "(shipped and returned: counts in gross, not net revenue).", "paid", required=False,
               allowed=ORDER_STATUSES, default="paid"),
    ),
)

MARKETING = Table(
    name="marketing",
    description="Daily ad-platform report per marketing channel.",
    grain="one row per day x marketing channel",
    key=("date", "channel"),
    foreign_keys=(ForeignKey("channel", "channels", "channel", ref_kind="marketing"),),
    columns=(
        Column("date", "date", "Report day.", "2025-06-11"),
        Column("channel", "string", "Marketing channel (a `marketing` channel in channels).", "search"),
        Column("spend", "float", "Media spend in the dataset's currency.", "1520.0", min=0.0),
        Column("impressions", "int", "Ad impressions.", "120000", min=0),
        Column("clicks", "int", "Clicks (at most impressions).", "2400", min=0),
        Column("sessions", "int", "Site or store sessions the channel brought.", "2100", min=0, required=False,
               nullable=True),
        Column("conversions", "int", "Conversions the platform itself claims (last-click, double-counted across "
               "platforms).", "96", min=0, required=False, nullable=True),
    ),
)

TOUCHPOINTS = Table(
    name="touchpoints",
    description="Marketing touches per customer (web analytics, ad-platform logs).",
    grain="one row per customer touch",
    key=("customer_id", "ts", "channel"),
    foreign_keys=(ForeignKey("channel", "channels", "channel", ref_kind="marketing"),),
    columns=(
        Column("customer_id", "string", "Pseudonymous customer or visitor id.", "C000123"),
        Column("ts", "datetime", "Time of the touch, local time without zone.", "2025-06-10 21:03:44"),
        Column("channel", "string", "Marketing channel of the touch.", "kol"),
    ),
)

INVENTORY = Table(
    name="inventory",
    description="Stock snapshot with replenishment lead times.",
    grain="one row per SKU x location",
    key=("sku", "location"),
    foreign_keys=(ForeignKey("sku", "products", "sku"),),
    columns=(
        Column("sku", "string", "Merchant SKU code.", "SKU-0001"),
        Column("location", "string", "Warehouse or store; `all` when stock is pooled.", "all", required=False,
               default="all"),
        Column("on_hand", "int", "Units in stock at the snapshot.", "340", min=0),
        Column("lead_time_days", "int", "Days from reorder to stock on the shelf.", "14", min=1),
        Column("as_of", "date", "Snapshot date.", "2025-12-31", required=False, nullable=True),
    ),
)

EVENTS = Table(
    name="events",
    description="Holidays, shopping festivals and promotions, one row per event day.",
    grain="one row per event x day (x channel) (x SKU)",
    key=("date", "event", "channel", "sku"),
    foreign_keys=(ForeignKey("sku", "products", "sku"),),
    columns=(
        Column("date", "date", "Day of the event.", "2025-11-11"),
        Column("event", "string", "Event name, the same on every day of one event.", "double11"),
        Column("kind", "string", "`holiday`, `festival` or `promotion`.", "festival", allowed=EVENT_KINDS),
        Column("channel", "string", "Sales channel it applies to; empty for all channels.", "tmall",
               required=False, nullable=True),
        Column("sku", "string", "SKU it applies to (a product promotion: a price cut, a display, a mailer); "
               "empty for every SKU.", "SKU-0001", required=False, nullable=True),
        Column("discount", "float", "Typical discount share during the event, when known.", "0.2", min=0.0,
               max=1.0, required=False, nullable=True),
        Column("display", "bool", "True when the product had an in-store display (promotions).", "False",
               required=False, nullable=True),
        Column("mailer", "bool", "True when the product was in a mailer, flyer or feature ad (promotions).",
               "True", required=False, nullable=True),
    ),
)

SALES = Table(
    name="sales",
    description="Daily (or weekly) sales panel. Derived from orders by `daily_sales`; a user who only has a "
                "panel may supply it instead of orders.",
    grain="one row per period x SKU x sales channel",
    key=("date", "sku", "channel"),
    foreign_keys=(
        ForeignKey("sku", "products", "sku"),
        ForeignKey("channel", "channels", "channel", ref_kind="sales"),
    ),
    columns=(
        Column("date", "date", "Start of the period (the day, or the week's first day).", "2025-06-11"),
        Column("sku", "string", "Merchant SKU code.", "SKU-0001"),
        Column("channel", "string", "Sales channel.", "tmall"),
        Column("units", "float", "Net units sold: paid lines only (a refunded line is a sale and its "
               "return). A panel you supply may carry net returns as negative values.", "12"),
        Column("revenue", "float", "Net revenue: sum of unit_price x units over paid lines.", "470.4"),
        Column("orders", "int", "Distinct paid orders.", "9", min=0, required=False, default=0),
        Column("price", "float", "Average paid price per unit (revenue / units); empty on days without sales.",
               "39.2", min=0.0, nullable=True),
        Column("list_price", "float", "Average shelf price per unit.", "49.0", min=0.0, required=False,
               nullable=True),
        Column("discount", "float", "1 - price / list_price.", "0.2", required=False, nullable=True),
        Column("promo", "bool", "True when a promotion ran (a discount on the day, or a promotion event).",
               "True", required=False, default=False),
        Column("returned_units", "float", "Units of refunded lines (sold, then returned); gross units = units + "
               "returned_units.", "1", min=0.0, required=False, default=0.0),
        Column("returned_revenue", "float", "Revenue of refunded lines; gross revenue = revenue + "
               "returned_revenue.", "39.2", min=0.0, required=False, default=0.0),
        Column("free_units", "float", "Net units given away at price 0 (counted in units, never in prices).",
               "0", min=0.0, required=False, default=0.0),
    ),
)

# Order matters: a table's foreign keys point only at tables listed before it.
TABLES: dict[str, Table] = {
    t.name: t for t in (CHANNELS, PRODUCTS, ORDERS, MARKETING, TOUCHPOINTS, INVENTORY, EVENTS, SALES)
}
