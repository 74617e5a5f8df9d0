"""Extract: read a source's files (or query) in batches, as delivered, with their row numbers.

Tables come back as text (`dtype=str`): typing is the normaliser's job, so that a value a reader
would have guessed wrongly (a leading-zero code, an ID number as a float) is never mangled here.
Geometry files come back with their shapely geometries in the source's CRS.
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geoplatform.errors import ConfigurationError, GeoPlatformError
from geoplatform.etl.pipeline import GEOMETRY_FORMATS, Pipeline, SourceSpec
from geoplatform.spatial.crs import InvalidCRS, SourceCRS, parse_crs


class ExtractFailed(GeoPlatformError, OSError):
    """A source's file is missing, unreadable, or not in the declared encoding or format."""

    exit_code = 66  # EX_NOINPUT


@dataclass
class RawBatch:
    """Rows of one file as delivered: text columns, 1-based row numbers, geometries if any."""

    frame: pd.DataFrame
    rows: NDArray[np.int64]  # row number in its file (1 = first data row)
    ordinal: NDArray[np.int64]  # position in the whole delivery: the last of a key wins
    file: str
    geometry: NDArray[np.object_] | None = None
    file_crs: SourceCRS | None = None
    datetime_columns: frozenset[str] = frozenset()  # typed by the reader: text is ISO 8601
    truncated: NDArray[np.bool_] | None = None  # rows cut short (a delivery cut off mid-row)

    def __len__(self) -> int:
        return len(self.frame)


def source_files(pipeline: Pipeline, source: SourceSpec) -> list[Path]:
    """The files a source names now (a glob may match several; sorted, so order is stable)."""
    if source.path is None:
        return []
    pattern = pipeline.resolve(source.path)
    if glob.has_magic(str(pattern)):
        return [Path(p) for p in sorted(glob.glob(str(pattern)))]
    return [pattern] if pattern.exists() else []


def _companions(path: Path) -> list[Path]:
    """A shapefile is several files: each of them changes the delivery."""
    if path.suffix.lower() != ".shp":
        return [path]
    return sorted(p for p in path.parent.glob(path.stem + ".*") if p.is_file())


def file_fingerprint(path: Path) -> str:
    """Content fingerprint (BLAKE2b over the file and its shapefile companions)."""
    digest = hashlib.blake2b(digest_size=16)
    for part in _companions(path):
        digest.update(part.name.encode())
        with part.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def fingerprints(pipeline: Pipeline, source: SourceSpec) -> dict[str, str]:
    """File name -> fingerprint for every file of a source (empty for queries)."""
    return {str(p): file_fingerprint(p) for p in source_files(pipeline, source)}


def extract(
    pipeline: Pipeline,
    source: SourceSpec,
    *,
    batch_rows: int,
    files: list[Path] | None = None,
) -> Iterator[RawBatch]:
    """Yield the source's rows in batches of at most `batch_rows` (files in sorted order)."""
    if source.format == "sql":
        yield from _read_sql(source, batch_rows)
        return
    chosen = source_files(pipeline, source) if files is None else files
    if files is None and not chosen:
        raise ExtractFailed(f"source {source.name}: no file matches {source.path}")
    ordinal = 0
    for path in chosen:
        for batch in _read_file(path, source, batch_rows):
            batch.ordinal = ordinal + np.arange(len(batch), dtype=np.int64)
            ordinal += len(batch)
            yield batch


def _read_file(path: Path, source: SourceSpec, batch_rows: int) -> Iterator[RawBatch]:
    try:
        if source.format == "csv":
            yield from _read_csv(path, source, batch_rows)
        elif source.format == "xlsx":
            yield from _read_xlsx(path, source, batch_rows)
        elif source.format in GEOMETRY_FORMATS:
            yield from _read_geo(path, source, batch_rows)
        else:  # pragma: no cover - the pipeline model allows nothing else
            raise ConfigurationError(f"unsupported format {source.format}")
    except pd.errors.ParserError as exc:
        if "EOF inside string" in str(exc):
            raise ExtractFailed(
                f"source {source.name}: {path.name} ends inside a quoted field (an unterminated "
                f"quote: {str(exc).split(': ', 1)[-1]}); the delivery looks truncated"
            ) from None
        raise ExtractFailed(f"source {source.name}: cannot read {path.name}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ExtractFailed(
            f"source {source.name}: {path.name} is not {source.encoding or 'utf-8'} "
            f"(byte {exc.start}: {exc.reason}); declare the right encoding"
        ) from None
    except (OSError, ValueError, KeyError) as exc:
        if isinstance(exc, GeoPlatformError):
            raise
        raise ExtractFailed(f"source {source.name}: cannot read {path.name}: {exc}") from None


def _read_csv(path: Path, source: SourceSpec, batch_rows: int) -> Iterator[RawBatch]:
    """Batches of the file; the last batch marks its last row `truncated` when the file was cut
    off inside it (see `_cut_last_row`), one batch held back to know which batch is last."""
    held: RawBatch | None = None
    for batch in _csv_batches(path, source, batch_rows):
        if held is not None:
            yield held
        held = batch
    if held is not None:
        if _cut_last_row(path, source.python_encoding):
            held.truncated = np.zeros(len(held), dtype=bool)
            held.truncated[-1] = True
        yield held


def _cut_last_row(path: Path, encoding: str) -> bool:
    """True when the file does not end with a line break and its last record has fewer fields
    than the header: a file cut off mid-row (pandas pads such a row with empty fields)."""
    import csv
    import io

    size = path.stat().st_size
    with path.open("rb") as fh:
        header = fh.readline()
        if size == 0 or fh.tell() >= size:
            return False
        fh.seek(max(0, size - 65_536))
        tail = fh.read()
    if tail.endswith((b"\n", b"\r")):
        return False
    last = tail.rsplit(b"\n", 1)[-1]
    fields_of = [
        len(next(csv.reader(io.StringIO(line.decode(encoding, "ignore"))), []))
        for line in (header, last)
    ]
    return fields_of[1] < fields_of[0]


def _csv_batches(path: Path, source: SourceSpec, batch_rows: int) -> Iterator[RawBatch]:
    reader = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        encoding=source.python_encoding,
        chunksize=batch_rows,
        skipinitialspace=False,
    )
    start = 0
    with reader:
        for chunk in reader:
            chunk.columns = [str(c).strip() for c in chunk.columns]
            rows = np.arange(start + 1, start + len(chunk) + 1, dtype=np.int64)
            start += len(chunk)
            yield RawBatch(chunk.reset_index(drop=True), rows, rows.copy(), path.name)


@cache
def _excel_engine() -> Literal["calamine", "openpyxl"]:
    """python-calamine (Rust) reads XLSX ~10x faster than openpyxl; either gives the same text."""
    return "calamine" if importlib.util.find_spec("python_calamine") else "openpyxl"


def _read_xlsx(path: Path, source: SourceSpec, batch_rows: int) -> Iterator[RawBatch]:
    sheet = 0 if source.sheet is None else source.sheet
    try:
        frame: pd.DataFrame = pd.read_excel(
            path, sheet_name=sheet, dtype=object, engine=_excel_engine()
        )
    except (KeyError, ValueError) as exc:
        raise ExtractFailed(f"source {source.name}: cannot read {path.name}: {exc}") from None
    except Exception as exc:  # zipfile.BadZipFile, CalamineError...: the workbook is incomplete
        raise ExtractFailed(
            f"source {source.name}: {path.name} is not a complete XLSX workbook (truncated or "
            f"damaged: {type(exc).__name__}: {str(exc)[:120]})"
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.fillna("")
    for start in range(0, max(len(frame), 1), batch_rows):
        chunk = frame.iloc[start : start + batch_rows].reset_index(drop=True)
        if len(chunk) == 0:
            return
        rows = np.arange(start + 1, start + len(chunk) + 1, dtype=np.int64)
        yield RawBatch(chunk, rows, rows.copy(), path.name)


def _read_geo(path: Path, source: SourceSpec, batch_rows: int) -> Iterator[RawBatch]:
    import pyogrio

    encoding = source.python_encoding if source.encoding else None
    layer = source.layer
    if path.suffix.lower() == ".shp":
        problem = shapefile_truncation(path)
        if problem:
            raise ExtractFailed(f"source {source.name}: {path.name}: {problem}")
    info = pyogrio.read_info(path, layer=layer, encoding=encoding)
    total = int(info.get("features") or 0)
    file_crs = _file_crs(info.get("crs"))
    for start in range(0, max(total, 1), batch_rows):
        gdf = pyogrio.read_dataframe(
            path,
            layer=layer,
            encoding=encoding,
            skip_features=start,
            max_features=batch_rows,
        )
        if len(gdf) == 0:
            return
        geometry = np.asarray(gdf.geometry.array, dtype=object)
        frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        frame.columns = [str(c).strip() for c in frame.columns]
        typed = frozenset(
            str(c) for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])
        )
        for column in typed:
            frame[column] = [None if pd.isna(v) else v.isoformat() for v in frame[column]]
        rows = np.arange(start + 1, start + len(frame) + 1, dtype=np.int64)
        yield RawBatch(
            frame.reset_index(drop=True), rows, rows.copy(), path.name, geometry, file_crs, typed
        )


def shapefile_truncation(path: Path) -> str | None:
    """Why a shapefile looks cut off, or None: the .shp shorter than its header's file length,
    the .shx index not a whole number of records, or the .dbf holding fewer records (or fewer
    bytes) than its header says, or the .shx and .dbf disagreeing on the record count."""
    import struct

    shp_size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(100)
    if len(head) < 100:
        return f"the .shp is {shp_size} bytes, shorter than its 100-byte header: truncated"
    declared = struct.unpack(">i", head[24:28])[0] * 2
    if shp_size < declared:
        return f"the .shp is {shp_size} bytes but its header says {declared}: truncated"
    counts: dict[str, int] = {}
    shx = next((p for p in _companions(path) if p.suffix.lower() == ".shx"), None)
    if shx is not None:
        size = shx.stat().st_size
        if size < 100 or (size - 100) % 8:
            return f"the .shx index is {size} bytes, not a whole number of records: truncated"
        counts["shx"] = (size - 100) // 8
    dbf = next((p for p in _companions(path) if p.suffix.lower() == ".dbf"), None)
    if dbf is not None:
        size = dbf.stat().st_size
        with dbf.open("rb") as fh:
            head = fh.read(12)
        if len(head) < 12:
            return f"the .dbf is {size} bytes, shorter than its header: truncated"
        records, header_len, record_len = struct.unpack("<IHH", head[4:12])
        if size < header_len + records * record_len:
            whole = max(0, (size - header_len) // max(record_len, 1))
            return f"the .dbf header says {records} records but the file holds {whole}: truncated"
        counts["dbf"] = records
    if len(set(counts.values())) > 1:
        return (
            f"the .shx indexes {counts['shx']} records but the .dbf holds {counts['dbf']}: "
            "a part of the shapefile is truncated or from another delivery"
        )
    return None


def _file_crs(crs: str | None) -> SourceCRS | None:
    if not crs:
        return None
    try:
        return parse_crs(crs)
    except InvalidCRS:
        import pyproj

        epsg = pyproj.CRS.from_user_input(crs).to_epsg(min_confidence=70)
        return parse_crs(epsg) if epsg else None


def _read_sql(source: SourceSpec, batch_rows: int) -> Iterator[RawBatch]:
    import sqlalchemy as sa

    from geoplatform.db.engine import sqlalchemy_url

    assert source.database_url_env is not None
    assert source.query is not None
    url = os.environ.get(source.database_url_env)
    if not url:
        raise ExtractFailed(
            f"source {source.name}: environment variable {source.database_url_env} is not set"
        )
    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            start = 0
            for chunk in pd.read_sql_query(sa.text(source.query), conn, chunksize=batch_rows):
                chunk = chunk.astype(object).where(chunk.notna(), "").astype(str)
                rows = np.arange(start + 1, start + len(chunk) + 1, dtype=np.int64)
                start += len(chunk)
                yield RawBatch(chunk.reset_index(drop=True), rows, rows.copy(), "query")
    finally:
        engine.dispose()
