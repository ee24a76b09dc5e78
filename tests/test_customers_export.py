"""Segment export: keyed pseudonyms only, chosen segments and columns, clear errors."""
from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import pytest

from channelkit.customers.export import KEY_ENV, export_segments, pseudonymize
from channelkit.errors import ConfigError, InputError


def scored() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["C000123", "C000456", "C000789"],
        "segment": ["champions", "at_risk", "champions"],
        "rfm": ["555", "134", "545"],
        "clv": [120.5, 30.0, 99.0],
        "phone": ["13800000000", "13900000000", "13700000000"],  # personal data that must never leave
    })


def test_pseudonym_is_hmac_sha256_of_the_id():
    got = pseudonymize(pd.Series(["C000123", "C000123", "C9"]), key="k1")
    expected = hmac.new(b"k1", b"C000123", hashlib.sha256).hexdigest()[:20]
    assert list(got) == [expected, expected, hmac.new(b"k1", b"C9", hashlib.sha256).hexdigest()[:20]]
    assert pseudonymize(pd.Series(["C000123"]), key="k2").item() != expected  # another key, another pseudonym


def test_export_writes_pseudonyms_and_allowed_columns_only(tmp_path):
    path = export_segments(scored(), tmp_path / "crm" / "champions.csv", key="secret", segments=["champions"])
    text = path.read_text(encoding="utf-8-sig")
    assert "C000123" not in text and "C000789" not in text and "138000" not in text
    out = pd.read_csv(path, encoding="utf-8-sig", dtype={"rfm": str})
    assert list(out.columns) == ["pseudonym", "segment", "rfm", "clv"]
    assert list(out["segment"]) == ["champions", "champions"]
    assert out["pseudonym"].iloc[0] == hmac.new(b"secret", b"C000123", hashlib.sha256).hexdigest()[:20]
    assert list(out["clv"]) == [120.5, 99.0]


def test_key_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "from-env")
    out = pd.read_csv(export_segments(scored(), tmp_path / "all.csv"), encoding="utf-8-sig")
    assert len(out) == 3
    assert out["pseudonym"].iloc[1] == hmac.new(b"from-env", b"C000456", hashlib.sha256).hexdigest()[:20]


def test_errors(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(ConfigError, match="pseudonymisation key is needed"):
        export_segments(scored(), tmp_path / "x.csv")
    with pytest.raises(InputError, match=r"`columns` may only name .* \['phone'\]"):
        export_segments(scored(), tmp_path / "x.csv", key="k", columns=["segment", "phone"])
    with pytest.raises(InputError, match=r"segment\(s\) with no customers: \['vip'\]"):
        export_segments(scored(), tmp_path / "x.csv", key="k", segments=["vip"])
    assert not (tmp_path / "x.csv").exists()


def test_pseudonym_matches_hmac_for_long_keys_and_any_text():
    """The precomputed-state HMAC equals the standard library's for keys longer than a SHA-256 block
    (hashed first, RFC 2104) and non-ASCII ids."""
    key = "k" * 100
    got = pseudonymize(pd.Series(["客户-001", "C1"]), key=key)
    assert list(got) == [hmac.new(key.encode(), v.encode(), hashlib.sha256).hexdigest()[:20] for v in ["客户-001", "C1"]]
