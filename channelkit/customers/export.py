"""Segment export for CRM and e-mail/SMS tools: a CSV file with pseudonymous ids only.

The file never carries the dataset's ``customer_id``. Each id is replaced by a keyed hash,
``HMAC-SHA256(key, customer_id)`` (RFC 2104; hex, first 20 characters = 80 bits), so:

- the same key gives the same pseudonym in every export (a CRM can follow a customer from one
  campaign to the next, and the owner of the key can match pseudonyms to its own records);
- without the key a pseudonym cannot be turned back into an id, nor linked to another export made
  with a different key (PIPL/GDPR pseudonymisation: the key is the "additional information" that
  must be kept separately).

The key must be at least :data:`MIN_KEY_BYTES` bytes (16: 128 bits, so it cannot be guessed by
trying keys). It comes from ``key=...``, a key file (``key_file=...`` or ``$CHANNELKIT_PSEUDONYM_KEY_FILE``:
the file's text without its trailing line break) or ``$CHANNELKIT_PSEUDONYM_KEY``; on a command line
it would be seen in ``ps`` and kept in shell history, so the CLI warns when it is passed there.
Rows are written in pseudonym order, which says nothing about the customer ids or the input order.

Exports are files written to the path the caller names (atomically: a failed write leaves an
earlier export intact); they are never shown in a report.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd

from channelkit.customers._validate import require_columns
from channelkit.errors import ConfigError, InputError
from channelkit.io import write_frame

KEY_ENV = "CHANNELKIT_PSEUDONYM_KEY"
KEY_FILE_ENV = "CHANNELKIT_PSEUDONYM_KEY_FILE"
MIN_KEY_BYTES = 16
PSEUDONYM_CHARS = 20
# Columns an export may carry besides the pseudonym: scores and model outputs, nothing personal.
EXPORT_COLUMNS = ("segment", "rfm", "r", "f", "m", "recency_days", "frequency", "monetary", "orders",
                  "revenue", "first_channel", "main_channel", "cross_channel", "p_alive",
                  "expected_purchases", "clv")


def pseudonymize(ids: pd.Series, *, key: str) -> pd.Series:
    """``HMAC-SHA256(key, id)`` as hex, first :data:`PSEUDONYM_CHARS` characters, per id.

    ``key`` must be a secret string of at least :data:`MIN_KEY_BYTES` bytes (UTF-8); raises
    :class:`ConfigError` otherwise.
    """
    check_key(key)
    secret = key.encode("utf-8")
    # Hash each distinct id once, then hand pseudonyms back by integer code.
    codes, unique = pd.factorize(ids.astype(str))
    hashed = np.array(_hmac_sha256_hex(secret, unique), dtype=object)
    return pd.Series(hashed[codes], index=ids.index, name="pseudonym")


def _hmac_sha256_hex(secret: bytes, values) -> list[str]:
    """RFC 2104 HMAC-SHA256 of each value (first :data:`PSEUDONYM_CHARS` hex characters).

    Same digest as ``hmac.new(secret, value, sha256)``, but the keyed inner and outer SHA-256
    states are built once and copied per value: twice as fast on millions of ids.
    """
    block = hashlib.sha256().block_size
    key = (hashlib.sha256(secret).digest() if len(secret) > block else secret).ljust(block, b"\0")
    inner = hashlib.sha256(bytes(c ^ 0x36 for c in key))
    outer = hashlib.sha256(bytes(c ^ 0x5C for c in key))
    out = []
    for value in values:
        step = inner.copy()
        step.update(value.encode("utf-8"))
        final = outer.copy()
        final.update(step.digest())
        out.append(final.hexdigest()[:PSEUDONYM_CHARS])
    return out


def check_key(key: object) -> None:
    """Raise :class:`ConfigError` unless ``key`` is a string of at least :data:`MIN_KEY_BYTES` bytes."""
    if not isinstance(key, str) or not key:
        raise ConfigError(f"a pseudonymisation key is needed: set ${KEY_ENV}, or name a key file with "
                          f"${KEY_FILE_ENV} (--pseudonym-key-file); keep it secret and apart from the exports")
    size = len(key.encode("utf-8"))
    if size < MIN_KEY_BYTES:
        raise ConfigError(f"the pseudonymisation key is {size} byte(s); it needs at least {MIN_KEY_BYTES} "
                          "(e.g. python -c \"import secrets; print(secrets.token_hex(16))\")")


def read_key_file(path: str | Path) -> str:
    """The key held in a text file: its UTF-8 text without the trailing line break."""
    file = Path(path)
    try:
        return file.read_text(encoding="utf-8-sig").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"pseudonym key file {file} could not be read: {getattr(exc, 'strerror', None) or exc}") from None


def resolve_key(key: str | None = None, *, key_file: str | Path | None = None) -> str:
    """The pseudonymisation key: ``key``, else the text of ``key_file``, else of ``$CHANNELKIT_PSEUDONYM_KEY_FILE``,
    else ``$CHANNELKIT_PSEUDONYM_KEY``; checked by :func:`check_key` (at least 16 bytes)."""
    if key:
        resolved = key
    elif key_file is not None or os.environ.get(KEY_FILE_ENV):
        resolved = read_key_file(key_file if key_file is not None else os.environ[KEY_FILE_ENV])
    else:
        resolved = os.environ.get(KEY_ENV, "")
    check_key(resolved)
    return resolved


def export_segments(
    customers: pd.DataFrame,
    path: str | Path,
    *,
    key: str | None = None,
    key_file: str | Path | None = None,
    segments: list[str] | tuple[str, ...] | None = None,
    columns: list[str] | tuple[str, ...] | None = None,
    customer_col: str = "customer_id",
) -> Path:
    """Write ``pseudonym`` plus scoring columns of the chosen segments to a CSV file at ``path``.

    ``customers`` is one row per customer (e.g. :func:`~channelkit.customers.rfm.rfm_table`
    merged with CLV predictions). ``segments`` keeps only those segments (default: all);
    ``columns`` picks among :data:`EXPORT_COLUMNS` (default: those present). Any other column,
    including ``customer_col``, is never written. ``key`` defaults as in :func:`resolve_key`.
    Rows come in pseudonym order (nothing of the ids' order survives). Returns the path written
    (UTF-8 with BOM, so Excel opens it correctly), written atomically.
    """
    require_columns(customers, [customer_col], name="customers")
    secret = resolve_key(key, key_file=key_file)
    chosen = [c for c in EXPORT_COLUMNS if c in customers.columns] if columns is None else list(columns)
    not_allowed = [c for c in chosen if c not in EXPORT_COLUMNS]
    if not_allowed:
        raise InputError(f"`columns` may only name {list(EXPORT_COLUMNS)}, but got {not_allowed}")
    require_columns(customers, chosen, name="customers")
    rows = customers
    if segments is not None:
        require_columns(customers, ["segment"], name="customers")
        unknown = sorted(set(segments) - set(customers["segment"].astype(str)))
        if unknown:
            raise InputError(f"`segments` names segment(s) with no customers: {unknown}")
        rows = customers.loc[customers["segment"].astype(str).isin(segments)]
    out = pd.concat([pseudonymize(rows[customer_col], key=secret).reset_index(drop=True),
                     rows[chosen].reset_index(drop=True)], axis=1)
    out = out.sort_values("pseudonym", kind="stable", ignore_index=True)
    return write_frame(out, Path(path), option="segment export", csv_encoding="utf-8-sig")
