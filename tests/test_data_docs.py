"""docs/data.md carries the contract's column tables exactly as contract.py generates them."""
from __future__ import annotations

from pathlib import Path

from channelkit.data.contract import TABLES
from channelkit.data.docs import contract_markdown, generated_block

DOCS = Path(__file__).resolve().parents[1] / "docs" / "data.md"


def test_docs_match_the_contract():
    text = DOCS.read_text(encoding="utf-8")
    assert generated_block(text) == contract_markdown(), (
        "docs/data.md is out of date: run `python -m channelkit.data.docs docs/data.md`"
    )


def test_every_column_is_documented_with_type_and_example():
    block = contract_markdown()
    for table in TABLES.values():
        assert f"### `{table.name}`" in block
        for column in table.columns:
            assert f"| `{column.name}` |" in block
            assert f"`{column.example}`" in block
    # A derived column says how it is derived.
    assert "| `list_price` | number | yes; if absent: the SKU's products.list_price |" in block


def test_docs_explain_mapping_encodings_and_refunds():
    text = DOCS.read_text(encoding="utf-8")
    for needed in ("订单编号: order_id", "付款时间: order_ts", "实付金额: amount", "GB18030", "byte-order mark",
                   "**Excluded from every metric.**", "subtracted as a", "start on Monday"):
        assert needed in text, needed
