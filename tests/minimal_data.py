"""A tiny hand-made dataset folder that meets the contract, for the data-layer tests.

Tests copy it and break one thing at a time; the numbers are small enough to check by hand.
"""
from __future__ import annotations

from pathlib import Path

CSV: dict[str, str] = {
    "channels": (
        "channel,kind,type,name,commission_rate\n"
        "tmall,sales,marketplace,Tmall store,0.05\n"
        "app,sales,own_store,Own app,0\n"
        "search,marketing,search,Paid search,0\n"
        "kol,marketing,kol,KOL hosts,0\n"
    ),
    "products": (
        "sku,name,category,brand,unit_cost,list_price\n"
        "SKU-1,Green tea,tea,Hillside,10,20\n"
        "SKU-2,Rice crackers,snacks,Hillside,4,10\n"
    ),
    "orders": (
        "order_id,sku,order_ts,customer_id,channel,units,unit_price,list_price,status\n"
        "A1,SKU-1,2025-06-11 10:00:00,C1,tmall,2,18,20,paid\n"
        "A1,SKU-2,2025-06-11 10:00:00,C1,tmall,1,10,10,paid\n"
        "A2,SKU-1,2025-06-11 12:30:00,C2,tmall,1,20,20,refunded\n"
        "A3,SKU-1,2025-06-11 13:00:00,,tmall,5,15,20,cancelled\n"
        "A4,SKU-1,2025-06-12 09:00:00,C3,app,3,20,20,paid\n"
        "A5,SKU-2,2025-06-12 21:15:00,C1,app,4,8,10,paid\n"
    ),
    "marketing": (
        "date,channel,spend,impressions,clicks,sessions\n"
        "2025-06-11,search,100.5,10000,300,250\n"
        "2025-06-11,kol,80,5000,120,\n"
        "2025-06-12,search,90,9000,280,240\n"
    ),
    "touchpoints": (
        "customer_id,ts,channel\n"
        "C1,2025-06-10 20:00:00,kol\n"
        "C1,2025-06-11 09:50:00,search\n"
        "C3,2025-06-12 08:00:00,search\n"
    ),
    "inventory": (
        "sku,on_hand,lead_time_days,as_of\n"
        "SKU-1,120,14,2025-06-12\n"
        "SKU-2,40,7,2025-06-12\n"
    ),
    "events": (
        "date,event,kind,channel,discount\n"
        "2025-06-18,618,festival,,\n"
        "2025-06-12,app_flash_sale,promotion,app,0.2\n"
    ),
}


def write_dataset(folder: Path, *, drop: tuple[str, ...] = (), encoding: str = "utf-8",
                  **replace: str) -> Path:
    """Write the minimal dataset as CSV into ``folder``; ``drop`` leaves tables out, keywords replace a table's text."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for table, text in {**CSV, **replace}.items():
        if table not in drop:
            (folder / f"{table}.csv").write_bytes(text.encode(encoding))
    return folder


def replace_line(table: str, old: str, new: str) -> str:
    """The table's CSV text with one exact substring replaced (it must occur once)."""
    text = CSV[table]
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {table}"
    return text.replace(old, new)
