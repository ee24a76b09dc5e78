"""Segment export: keyed pseudonyms only, chosen segments and columns, clear errors."""
from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import pytest

from channelkit.customers.export import KEY_ENV, KEY_FILE_ENV, export_segments, pseudonymize
from channelkit.errors import ConfigError, InputError


def scored() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["C000123", "C000456", "C000789"],
        "segment": ["champions", "at_risk", "champions"],
        "rfm": ["555", "134", "545"],
        "clv": [120.5, 30.0, 99.0],
        "phone": ["13800000000", "13900000000", "13700000000"],  # personal data that must never leave
    })


KEY1, KEY2 = "k1-sixteen-bytes", "k2-sixteen-bytes"  # the shortest keys allowed: 16 bytes
SECRET = "secret-of-16-bytes"


def test_pseudonym_is_hmac_sha256_of_the_id():
    got = pseudonymize(pd.Series(["C000123", "C000123", "C9"]), key=KEY1)
    expected = hmac.new(KEY1.encode(), b"C000123", hashlib.sha256).hexdigest()[:20]
    assert list(got) == [expected, expected, hmac.new(KEY1.encode(), b"C9", hashlib.sha256).hexdigest()[:20]]
    assert pseudonymize(pd.Series(["C000123"]), key=KEY2).item() != expected  # another key, another pseudonym


def test_export_writes_pseudonyms_and_allowed_columns_only(tmp_path):
    path = export_segments(scored(), tmp_path / "crm" / "champions.csv", key=SECRET, segments=["champions"])
    text = path.read_text(encoding="utf-8-sig")
    assert "C000123" not in text and "C000789" not in text and "138000" not in text
    out = pd.read_csv(path, encoding="utf-8-sig", dtype={"rfm": str}).set_index("pseudonym")
    assert list(out.columns) == ["segment", "rfm", "clv"]
    assert list(out["segment"]) == ["champions", "champions"]
    first = hmac.new(SECRET.encode(), b"C000123", hashlib.sha256).hexdigest()[:20]
    assert out.loc[first, "clv"] == 120.5 and sorted(out["clv"]) == [99.0, 120.5]


def test_key_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "from-env-16-bytes")
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    out = pd.read_csv(export_segments(scored(), tmp_path / "all.csv"), encoding="utf-8-sig")
    assert len(out) == 3
    assert hmac.new(b"from-env-16-bytes", b"C000456", hashlib.sha256).hexdigest()[:20] in set(out["pseudonym"])


def test_key_from_a_key_file_and_rows_in_pseudonym_order(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "an-env-key-that-loses")
    key_file = tmp_path / "key.txt"
    key_file.write_text("file-key-0123456789\n", encoding="utf-8")  # the line break is not part of the key
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    ids = [f"C{i:06d}" for i in range(50)]  # written in id order: the export must not keep it
    frame = pd.DataFrame({"customer_id": ids, "segment": "champions", "clv": range(50)})
    out = pd.read_csv(export_segments(frame, tmp_path / "all.csv"), encoding="utf-8-sig")
    expected = {hmac.new(b"file-key-0123456789", i.encode(), hashlib.sha256).hexdigest()[:20]: v
                for v, i in enumerate(ids)}
    assert list(out["pseudonym"]) == sorted(expected)
    assert dict(zip(out["pseudonym"], out["clv"])) == expected
    assert list(out["clv"]) != list(range(50))  # the id order is gone


def test_short_or_missing_keys_are_refused(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    monkeypatch.setenv(KEY_ENV, "x")
    with pytest.raises(ConfigError, match=r"key is 1 byte\(s\); it needs at least 16"):
        export_segments(scored(), tmp_path / "x.csv")
    with pytest.raises(ConfigError, match=r"key is 15 byte\(s\)"):
        pseudonymize(pd.Series(["C1"]), key="a" * 15)
    with pytest.raises(ConfigError, match=r"key file .*nope.txt could not be read"):
        export_segments(scored(), tmp_path / "x.csv", key_file=tmp_path / "nope.txt")
    assert not (tmp_path / "x.csv").exists()


def test_errors(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    with pytest.raises(ConfigError, match="pseudonymisation key is needed"):
        export_segments(scored(), tmp_path / "x.csv")
    with pytest.raises(InputError, match=r"`columns` may only name .* \['phone'\]"):
        export_segments(scored(), tmp_path / "x.csv", key=SECRET, columns=["segment", "phone"])
    with pytest.raises(InputError, match=r"segment\(s\) with no customers: \['vip'\]"):
        export_segments(scored(), tmp_path / "x.csv", key=SECRET, segments=["vip"])
    assert not (tmp_path / "x.csv").exists()


def test_pseudonym_matches_hmac_for_long_keys_and_any_text():
    """The precomputed-state HMAC equals the standard library's for keys longer than a SHA-256 block
    (hashed first, RFC 2104) and non-ASCII ids."""
    key = "k" * 100
    got = pseudonymize(pd.Series(["客户-001", "C1"]), key=key)
    assert list(got) == [hmac.new(key.encode(), v.encode(), hashlib.sha256).hexdigest()[:20] for v in ["客户-001", "C1"]]
