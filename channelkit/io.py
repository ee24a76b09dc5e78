"""Reading inputs and writing outputs for every command, the same way everywhere.

Reading (:func:`read_input`): a plain-text table (``.csv``, ``.tsv``, ``.txt``) has its encoding
detected (UTF-8 with or without a byte-order mark, else GB18030, the superset of GBK that Chinese
marketplace back-ends export), Parquet and ``.xlsx`` are read as they are; whatever goes wrong (no
such file, a folder, unreadable bytes, an empty file, a corrupt spreadsheet, a broken Parquet file)
becomes one :class:`~channelkit.errors.InputError` that names the option and the file.

Writing (:func:`write_output`): the output goes to a hidden temporary file in the same folder,
which replaces the target with one ``os.replace`` only when it is complete. A full disk, a
read-only folder or an interrupt therefore leaves the previous output byte-identical and no partial
file behind. :func:`check_output` checks an output path (suffix, folder writable, not a folder
itself) so a command can refuse a bad ``--out`` before any work.
"""
from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pandas as pd

from channelkit.errors import ConfigError, InputError, OutputError

PLAIN_SUFFIXES = (".csv", ".tsv", ".txt")
TABLE_SUFFIXES = PLAIN_SUFFIXES + (".parquet", ".pq", ".xlsx")


def _suffixes(suffixes: Iterable[str]) -> str:
    shown = list(dict.fromkeys(s for s in suffixes if s not in (".pq", ".tsv", ".txt")))
    return ", ".join(shown[:-1]) + f" or {shown[-1]}" if len(shown) > 1 else shown[0]


def check_input(path: str | Path, *, option: str, suffixes: Iterable[str] = TABLE_SUFFIXES) -> Path:
    """``path`` as a :class:`Path` when it is an existing file with one of ``suffixes``.

    Raises :class:`ConfigError` (exit code 2) naming ``option`` otherwise.
    """
    file = Path(path)
    suffixes = tuple(suffixes)
    if file.is_dir():
        raise ConfigError(f"{option} {file}: is a folder, but a file is needed")
    if not file.is_file():
        raise ConfigError(f"{option}: file not found: {file}")
    if file.suffix.lower() not in suffixes:
        raise ConfigError(f"{option} must be a {_suffixes(suffixes)} file, but got {file.name!r}")
    return file


def text_encoding(path: str | Path, *, option: str) -> str:
    """The encoding of a plain-text file: ``utf-8-sig`` (UTF-8, BOM or not) or ``gb18030``.

    Raises :class:`InputError` naming ``option`` and the file (with the first bad byte) when the
    file is neither, or cannot be opened.
    """
    from channelkit.data.loaders import FileReadError, detect_encoding

    try:
        return detect_encoding(path)
    except FileReadError as exc:
        raise InputError(f"{option} {path} {exc.reason}") from None
    except OSError as exc:
        raise InputError(f"{option} {path} could not be read: {exc.strerror or exc}") from None


def read_input(path: str | Path, *, option: str, suffixes: Iterable[str] = TABLE_SUFFIXES,
               string_columns: tuple[str, ...] = (), sheet: str | int | None = None,
               columns: list[str] | None = None) -> pd.DataFrame:
    """Read one table file (CSV/TSV in UTF-8/BOM/GB18030, Parquet, ``.xlsx``) for ``option``.

    ``string_columns`` stay text (leading zeros kept); ``columns`` reads only those columns (check
    them first with :func:`input_columns`). Raises :class:`ConfigError` for a missing file or a
    wrong suffix, :class:`InputError` naming the option and the file for unreadable, corrupt or
    empty input (no columns or no data rows).
    """
    from channelkit.data.loaders import read_file

    file = check_input(path, option=option, suffixes=suffixes)
    suffix = file.suffix.lower()
    with _read_errors(file, option):
        if columns is not None and suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(file, columns=columns)
        elif columns is not None and suffix in PLAIN_SUFFIXES:
            encoding, sep = _plain_format(file, option)
            frame = pd.read_csv(file, usecols=columns, encoding=encoding, sep=sep,
                                dtype={c: str for c in string_columns if c in columns})
        else:
            encoding = _plain_format(file, option)[0] if suffix in PLAIN_SUFFIXES else None
            frame = read_file(file, encoding=encoding, sheet=sheet, string_columns=string_columns)
            frame = frame if columns is None else frame[columns]
    if frame.shape[1] == 0 or len(frame) == 0:
        raise InputError(f"{option} {file} is empty: it has {frame.shape[1]} column(s) and no data rows")
    return frame


def input_columns(path: str | Path, *, option: str, suffixes: Iterable[str] = TABLE_SUFFIXES,
                  sheet: str | int | None = None) -> list[str]:
    """The column names of a table file without reading its rows (a spreadsheet is read whole).

    Raises as :func:`read_input` does.
    """
    import pyarrow.parquet as pq

    file = check_input(path, option=option, suffixes=suffixes)
    suffix = file.suffix.lower()
    if suffix == ".xlsx":
        return [str(c) for c in read_input(file, option=option, suffixes=suffixes, sheet=sheet).columns]
    with _read_errors(file, option):
        if suffix in (".parquet", ".pq"):
            return [str(c) for c in pq.read_schema(file).names]
        encoding, sep = _plain_format(file, option)
        return [str(c).lstrip("\ufeff").strip() for c in pd.read_csv(file, nrows=0, encoding=encoding, sep=sep).columns]


def _plain_format(file: Path, option: str) -> tuple[str, str]:
    """Encoding and delimiter (sniffed among , ; tab |) of a plain-text table; an empty file is refused."""
    from channelkit.data.loaders import _sniff_delimiter

    if file.stat().st_size == 0:
        raise InputError(f"{option} {file} is empty: it has no header and no data rows")
    encoding = text_encoding(file, option=option)
    return encoding, _sniff_delimiter(file, encoding)


@contextlib.contextmanager
def _read_errors(file: Path, option: str) -> Iterator[None]:
    """Any failure of a reader becomes one :class:`InputError` naming the option and the file."""
    import pyarrow as pa

    from channelkit.data.loaders import FileReadError

    try:
        yield
    except FileReadError as exc:
        raise InputError(f"{option} {file} {exc.reason}") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{option} {file} is empty: it has no header and no data rows") from None
    except (OSError, ValueError, KeyError, IndexError, UnicodeDecodeError, zipfile.BadZipFile,
            pa.ArrowException, pd.errors.ParserError) as exc:
        raise InputError(f"{option} {file} could not be read ({type(exc).__name__}: {_first_line(exc)}); "
                         "is it a complete, uncorrupted file of its type?") from None


def _first_line(exc: BaseException, limit: int = 200) -> str:
    text = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_output(path: str | Path | None, *, option: str = "--out",
                 suffixes: Iterable[str] | None = None) -> Path | None:
    """Check an output path before any work: suffix, not a folder, its folder creatable and writable.

    Creates the folder when missing (as the write would) and tries a temporary file in it.
    Returns the path (``None`` passes through); raises :class:`ConfigError` naming ``option``.
    """
    if path is None:
        return None
    out = Path(path)
    if suffixes is not None:
        suffixes = tuple(suffixes)
        if out.suffix.lower() not in suffixes:
            raise ConfigError(f"{option} must end in {_suffixes(suffixes)}, but got {out.name!r}")
    if out.is_dir():
        raise ConfigError(f"{option} {out}: is a folder; name a file inside it")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{out.name}.", suffix=".check"):
            pass
    except OSError as exc:
        raise ConfigError(f"{option} {out}: cannot write in folder {out.parent} ({exc.strerror or exc})") from None
    return out


STALE_TMP_S = 3600.0  # a temporary file this old beside an output was left by a killed writer


def write_output(path: str | Path, write: Callable[[Path], object], *, option: str = "--out") -> Path:
    """Write a file atomically: ``write(tmp)`` fills a temporary file beside ``path``, then
    ``os.replace`` puts it in place.

    On any failure the temporary file is removed and ``path`` is left as it was; an ``OSError``
    (full disk, read-only folder, ...) becomes :class:`OutputError` naming ``option`` and the file.
    Temporary files of ``path`` older than :data:`STALE_TMP_S` (a writer killed mid-write) are
    deleted first.
    """
    out = Path(path)
    _sweep_stale(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"{option} {out}: could not write ({exc.strerror or exc}); nothing was changed") from None
    tmp = Path(name)
    try:
        write(tmp)
        _keep_mode(tmp, out)
        os.replace(tmp, out)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            full = " (the disk is full)" if exc.errno == errno.ENOSPC else ""
            raise OutputError(f"{option} {out}: could not write{full}: {exc.strerror or exc}; "
                              "the previous file, if any, is unchanged") from None
        raise
    return out


def _sweep_stale(out: Path) -> None:
    import time

    now = time.time()
    for tmp in out.parent.glob(f".{out.name}.*.tmp") if out.parent.is_dir() else ():
        with contextlib.suppress(OSError):
            if now - tmp.stat().st_mtime > STALE_TMP_S:
                tmp.unlink()


def _keep_mode(tmp: Path, out: Path) -> None:
    """Give the new file the old file's permissions, or the usual ones (mkstemp makes it 0600)."""
    try:
        mode = out.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)


def frame_writer(frame: pd.DataFrame, suffix: str, *, csv_encoding: str = "utf-8") -> Callable[[Path], None]:
    """A ``write(path)`` for :func:`write_output`: CSV, Parquet or JSON records (ISO dates) by ``suffix``."""
    suffix = suffix.lower()

    def write(tmp: Path) -> None:
        if suffix in (".parquet", ".pq"):
            frame.to_parquet(tmp, index=False)
        elif suffix == ".json":
            frame.to_json(tmp, orient="records", date_format="iso", indent=2, force_ascii=False)
        else:
            frame.to_csv(tmp, index=False, encoding=csv_encoding)

    return write


def write_frame(frame: pd.DataFrame, path: str | Path, *, option: str = "--out",
                csv_encoding: str = "utf-8") -> Path:
    """Write ``frame`` atomically by the suffix of ``path`` (``.csv``, ``.parquet``/``.pq``, ``.json``)."""
    return write_output(path, frame_writer(frame, Path(path).suffix, csv_encoding=csv_encoding), option=option)


def write_text(text: str, path: str | Path, *, option: str = "--out") -> Path:
    """Write UTF-8 ``text`` atomically to ``path``."""
    return write_output(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), option=option)
