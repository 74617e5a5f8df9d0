"""File formats as departments deliver them, written byte-for-byte reproducibly.

* XLSX: a small streaming writer (inline strings, fixed zip timestamps and document dates), so
  millions of rows never sit in memory and the same seed gives the same bytes.
* CSV: streamed in chunks; UTF-8 with BOM, plain UTF-8 or GBK as the source would send it.
* GeoPackage: GDAL's ``OGR_CURRENT_DATE`` pins the timestamps it records.
* Shapefile: GBK attribute table, a fixed DBF date, no .cpg and no code page byte, as old
  desktop tools leave them (the reader has to be told the encoding).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

import geopandas as gpd
import pandas as pd
import pyogrio

FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
DOCUMENT_DATE = "2025-12-31T00:00:00Z"
GDAL_FIXED_DATE = "2025-12-31T00:00:00.000Z"
DBF_DATE = "2025-12-31"

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_OOXML = "application/vnd.openxmlformats-officedocument"
_PACKAGE = "application/vnd.openxmlformats-package"


def _override(part: str, content_type: str) -> str:
    return f'<Override PartName="{part}" ContentType="{content_type}"/>'


def _relationship(rid: str, kind: str, target: str) -> str:
    return f'<Relationship Id="{rid}" Type="{kind}" Target="{target}"/>'


_CONTENT_TYPES = (
    _HEAD
    + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    + f'<Default Extension="rels" ContentType="{_PACKAGE}.relationships+xml"/>'
    + '<Default Extension="xml" ContentType="application/xml"/>'
    + _override("/xl/workbook.xml", f"{_OOXML}.spreadsheetml.sheet.main+xml")
    + _override("/xl/worksheets/sheet1.xml", f"{_OOXML}.spreadsheetml.worksheet+xml")
    + _override("/xl/styles.xml", f"{_OOXML}.spreadsheetml.styles+xml")
    + _override("/docProps/core.xml", f"{_PACKAGE}.core-properties+xml")
    + _override("/docProps/app.xml", f"{_OOXML}.extended-properties+xml")
    + "</Types>"
)
_ROOT_RELS = (
    _HEAD
    + f'<Relationships xmlns="{_REL_NS}">'
    + _relationship("rId1", f"{_DOC_REL}/officeDocument", "xl/workbook.xml")
    + _relationship("rId2", f"{_REL_NS}/metadata/core-properties", "docProps/core.xml")
    + _relationship("rId3", f"{_DOC_REL}/extended-properties", "docProps/app.xml")
    + "</Relationships>"
)
_WORKBOOK_RELS = (
    _HEAD
    + f'<Relationships xmlns="{_REL_NS}">'
    + _relationship("rId1", f"{_DOC_REL}/worksheet", "worksheets/sheet1.xml")
    + _relationship("rId2", f"{_DOC_REL}/styles", "styles.xml")
    + "</Relationships>"
)
_STYLES = (
    _HEAD
    + f'<styleSheet xmlns="{_MAIN_NS}">'
    + '<fonts count="1"><font><sz val="11"/><name val="宋体"/></font></fonts>'
    + '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    + '<fill><patternFill patternType="gray125"/></fill></fills>'
    + '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    + '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    + '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    + '<cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles>'
    + "</styleSheet>"
)
_CORE = (
    _HEAD
    + "<cp:coreProperties"
    + ' xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
    + ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
    + ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>{creator}</dc:creator>'
    + f'<dcterms:created xsi:type="dcterms:W3CDTF">{DOCUMENT_DATE}</dcterms:created>'
    + f'<dcterms:modified xsi:type="dcterms:W3CDTF">{DOCUMENT_DATE}</dcterms:modified>'
    + "</cp:coreProperties>"
)
_APP = (
    _HEAD
    + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    + "<Application>Microsoft Excel</Application></Properties>"
)


def _column_letters(count: int) -> list[str]:
    letters = []
    for index in range(count):
        name, value = "", index + 1
        while value:
            value, remainder = divmod(value - 1, 26)
            name = chr(65 + remainder) + name
        letters.append(name)
    return letters


def _escape(text: str) -> str:
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


class XlsxStreamWriter:
    """One-sheet XLSX written row batch by row batch. Strings become inline strings, ints numbers,
    None or "" empty cells."""

    def __init__(
        self,
        path: Path,
        sheet_name: str,
        headers: Sequence[str],
        creator: str = "网格化服务管理信息系统",
    ) -> None:
        self.path = path
        self.sheet_name = sheet_name
        self.columns = _column_letters(len(headers))
        self.row_number = 0
        self.creator = creator
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        self._sheet: IO[bytes] = self._zip.open(
            _zip_info("xl/worksheets/sheet1.xml"), "w", force_zip64=True
        )
        self._sheet.write((_HEAD + f'<worksheet xmlns="{_MAIN_NS}"><sheetData>').encode())
        self.write_rows([list(headers)])

    def write_rows(self, rows: Iterable[Sequence[str | int | None]]) -> None:
        parts: list[str] = []
        columns = self.columns
        for row in rows:
            self.row_number += 1
            r = self.row_number
            cells = [f'<row r="{r}">']
            for letter, value in zip(columns, row, strict=False):
                if value is None or value == "":
                    continue
                if isinstance(value, int):
                    cells.append(f'<c r="{letter}{r}"><v>{value}</v></c>')
                else:
                    cells.append(
                        f'<c r="{letter}{r}" t="inlineStr"><is><t>{_escape(value)}</t></is></c>'
                    )
            cells.append("</row>")
            parts.append("".join(cells))
        self._sheet.write("".join(parts).encode())

    def close(self) -> None:
        self._sheet.write(b"</sheetData></worksheet>")
        self._sheet.close()
        workbook = (
            _HEAD + f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_DOC_REL}"><sheets>'
            f'<sheet name="{_escape(self.sheet_name)}" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>"
        )
        for name, text in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _ROOT_RELS),
            ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
            ("xl/styles.xml", _STYLES),
            ("docProps/core.xml", _CORE.replace("{creator}", _escape(self.creator))),
            ("docProps/app.xml", _APP),
        ):
            self._zip.writestr(_zip_info(name), text.encode())
        self._zip.close()

    def __enter__(self) -> XlsxStreamWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class CsvStream:
    """A CSV written in chunks with one header; the encoding's BOM (utf-8-sig) appears once."""

    def __init__(
        self,
        path: Path,
        columns: Sequence[str],
        encoding: str = "utf-8",
        line_terminator: str = "\n",
    ) -> None:
        self.path = path
        self.columns = list(columns)
        self.line_terminator = line_terminator
        self.rows = 0
        self._handle = open(path, "w", encoding=encoding, newline="", errors="strict")  # noqa: SIM115
        self._handle.write(",".join(self.columns) + line_terminator)

    def write(self, frame: pd.DataFrame) -> None:
        frame[self.columns].to_csv(
            self._handle, header=False, index=False, lineterminator=self.line_terminator
        )
        self.rows += len(frame)

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> CsvStream:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def write_geopackage(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Layers into one GeoPackage with pinned timestamps (same input → same bytes)."""
    if path.exists():
        path.unlink()
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GDAL_FIXED_DATE})
    try:
        for name, frame in layers.items():
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", append=path.exists())
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def write_gbk_shapefile(path: Path, frame: gpd.GeoDataFrame) -> list[Path]:
    """A Shapefile whose DBF is GBK with no .cpg and no code page byte; returns its parts."""
    pyogrio.write_dataframe(
        frame,
        path,
        driver="ESRI Shapefile",
        encoding="GBK",
        layer_options={"DBF_DATE_LAST_UPDATE": DBF_DATE},
    )
    path.with_suffix(".cpg").unlink(missing_ok=True)
    dbf = path.with_suffix(".dbf")
    with open(dbf, "r+b") as handle:  # byte 29 is the language driver id: 0 = unknown
        handle.seek(29)
        handle.write(b"\x00")
    return [path.with_suffix(suffix) for suffix in (".shp", ".shx", ".dbf", ".prj")]


def write_geojson(path: Path, frame: gpd.GeoDataFrame) -> None:
    """GeoJSON keeping the frame's CRS (a ``crs`` member, not RFC 7946's forced WGS84)."""
    if path.exists():
        path.unlink()
    pyogrio.write_dataframe(
        frame,
        path,
        driver="GeoJSON",
        layer_options={"RFC7946": "NO", "COORDINATE_PRECISION": "9", "WRITE_NAME": "NO"},
    )
