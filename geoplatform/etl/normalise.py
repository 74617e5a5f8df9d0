"""Normalise: delivered rows → typed target fields, WGS84 geometry, personal data keyed away.

Every row either comes out clean or leaves as a `Reject` with a reason code; nothing is dropped
silently. Work is per column over the whole batch (pandas/numpy/shapely), never per row, except
for the keyed HMAC of identifiers (hashlib, ~1 µs a row).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geoplatform.errors import ConfigurationError, PipelineInvalid
from geoplatform.etl.entities import Entity
from geoplatform.etl.extract import RawBatch
from geoplatform.etl.pipeline import SourceSpec
from geoplatform.etl.rejects import Reason, Rejects, _Rejector
from geoplatform.etl.values import (
    each,
    formats_of,
    keyed_hmac,
    parse_times,
    source_attributes,
    split_list,
    text_values,
)
from geoplatform.identifiers import (
    is_valid_credit_code,
    is_valid_id_number,
    normalise_credit_code,
    normalise_id_number,
)
from geoplatform.spatial.crs import SourceCRS, to_wgs84
from geoplatform.spatial.validity import Extent, check_points, repair_polygons

#: Values people write for the fixed vocabularies, before the pipeline's own `values` maps.
BUILTIN_VALUES: Final[dict[str, dict[str, str]]] = {
    "gender": {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F"},
    "kind": {"基础网格": "basic", "专属网格": "special"},
    "door_kind": {
        "大门": "gate",
        "院门": "gate",
        "小区大门": "gate",
        "楼栋": "building",
        "独栋": "building",
    },
}


@dataclass(frozen=True)
class Context:
    """What normalising needs beyond the source: the city, the time zone, the HMAC key."""

    extent: Extent
    timezone: str
    hmac_key: bytes | None
    max_vertices: int = 100_000
    max_area_km2: float = 50_000.0


@dataclass
class Batch:
    """Clean rows of one batch (`frame`) and the rows rejected from it.

    `frame` columns: `_ord`, `_row`, `_file`, `source_key`, the entity's fields (typed),
    `_lon`/`_lat` (NaN where there is no point yet), `_poly` (polygons or lines, WGS84),
    `_address`, `attributes` (JSON text or None).
    """

    frame: pd.DataFrame
    rejects: Rejects
    counts: dict[str, int]


def _column(raw: RawBatch, source: SourceSpec, column: str) -> pd.Series:
    if column not in raw.frame.columns:
        shown = ", ".join(map(str, raw.frame.columns[:30]))
        raise PipelineInvalid(
            f"source {source.name}: column {column!r} is not in {raw.file} (columns: {shown})"
        )
    return text_values(raw.frame[column])


def normalise(
    raw: RawBatch, source: SourceSpec, ctx: Context, *, since: pd.Timestamp | None = None
) -> Batch:
    """Type, check and locate one batch; see the module docstring.

    With `since` (an append source's watermark), rows whose watermark time is at or before it
    were loaded by an earlier run: they leave first, counted as `behind_watermark`, and are
    neither read nor rejected again.
    """
    entity = source.target
    rj = _Rejector(raw, source)
    counts: dict[str, int] = {}
    n = len(raw)
    if since is not None and source.watermark in source.columns:
        times = parse_times(
            _column(raw, source, source.columns[source.watermark]),
            formats_of(source),
            source.timezone or ctx.timezone,
        )
        behind = times.le(since).fillna(False).to_numpy(dtype=bool)
        rj.alive &= ~behind
        counts["behind_watermark"] = int(behind.sum())
    reject_truncated(raw, rj, counts)
    frame = pd.DataFrame(index=pd.RangeIndex(n))
    frame["_ord"] = raw.ordinal
    frame["_row"] = raw.rows
    frame["_file"] = raw.file

    keys = [_column(raw, source, c) for c in source.key_columns]
    key = keys[0] if len(keys) == 1 else _join(keys, "|", all_required=True)
    rj.keys = key
    frame["source_key"] = key
    rj.reject(key.isna().to_numpy(), Reason.MISSING_KEY, "natural key is missing")

    for f in entity.fields:
        if f.name == "address" and source.address is not None:
            continue
        if f.name in source.columns:
            values = _column(raw, source, source.columns[f.name])
        elif f.name in source.constants:
            values = pd.Series([str(source.constants[f.name])] * n, dtype=object)
        elif f.default is not None:
            values = pd.Series([f.default] * n, dtype=object)
        else:
            values = pd.Series([None] * n, dtype=object)
        mapping = {**BUILTIN_VALUES.get(f.name, {}), **source.values.get(f.name, {})}
        if mapping:
            lowered = {k.lower(): v for k, v in mapping.items()}
            values = each(values, _mapper(lowered))
        typed = source.columns.get(f.name) in raw.datetime_columns
        formats = ["iso"] if typed else formats_of(source)
        frame[f.name] = _typed(values, f.name, entity, source, ctx, rj, formats)

    address_cols = source.address_columns
    if address_cols:
        parts = [_column(raw, source, c) for c in address_cols]
        frame["_address"] = parts[0] if len(parts) == 1 else _join(parts, "", all_required=False)
        if "address" in entity.field_names:
            frame["address"] = frame["_address"]
    else:
        frame["_address"] = None
    frame["attributes"] = source_attributes(
        lambda c: _column(raw, source, c), source, n, source.timezone or ctx.timezone
    )

    _entity_rules(frame, entity, source, ctx, rj, counts)
    _geometry(frame, raw, source, ctx, rj, counts)
    alive = rj.alive
    return Batch(frame=frame[alive].reset_index(drop=True), rejects=rj.out, counts=counts)


def reject_truncated(raw: RawBatch, rj: _Rejector, counts: dict[str, int]) -> None:
    """Rows the extract found cut short leave as `truncated_row` (counted for the run log's
    warning), before any field rule can give them a misleading reason."""
    if raw.truncated is None or not raw.truncated.any():
        return
    rj.reject(raw.truncated, Reason.TRUNCATED_ROW, "the row is cut short: the file ends in it")
    counts["truncated_rows"] = counts.get("truncated_rows", 0) + int(raw.truncated.sum())


def reject_too_complex(
    geoms: NDArray[np.object_], ctx: Context, rj: _Rejector
) -> NDArray[np.object_]:
    """Geometries past `ctx.max_vertices` vertices or `ctx.max_area_km2` leave as
    `geometry_too_complex` before they are transformed and repaired (work that grows with
    them); they are replaced by None so nothing downstream spends time on them."""
    vertices = shapely.get_num_coordinates(geoms)
    too_many = vertices > ctx.max_vertices
    area = shapely.area(geoms)
    bounds = np.nan_to_num(shapely.bounds(geoms), nan=0.0)
    degrees = (np.abs(bounds[:, [0, 2]]) <= 180).all(axis=1) & (
        np.abs(bounds[:, [1, 3]]) <= 90
    ).all(axis=1)  # lon/lat (WGS84, CGCS2000, GCJ-02...) rather than projected metres
    lat = (bounds[:, 1] + bounds[:, 3]) / 2
    km2_per_unit = np.where(degrees, 111.32**2 * np.cos(np.radians(lat)), 1e-6)
    area = area * km2_per_unit
    too_big = np.nan_to_num(area, nan=0.0) > ctx.max_area_km2
    for mask, why in (
        (too_many, f"more than {ctx.max_vertices} vertices"),
        (too_big & ~too_many, f"an area over {ctx.max_area_km2:g} km²"),
    ):
        if mask.any():
            rj.reject(mask, Reason.GEOMETRY_TOO_COMPLEX, f"the geometry has {why}")
    bad = too_many | too_big
    if not bad.any():
        return geoms
    kept = geoms.copy()
    kept[bad] = None
    return kept


def _mapper(mapping: dict[str, str]) -> Callable[[str], str]:
    def apply(value: str) -> str:
        return mapping.get(value.lower(), value)

    return apply


def _join(parts: list[pd.Series], sep: str, *, all_required: bool) -> pd.Series:
    frame = pd.concat(parts, axis=1)
    if all_required:
        bad = frame.isna().any(axis=1)
        joined = frame.fillna("").astype(str).agg(sep.join, axis=1)
        return joined.where(~bad, None)
    joined = frame.apply(lambda r: sep.join(v for v in r if v), axis=1)
    return joined.where(joined != "", None)


def _typed(
    values: pd.Series,
    name: str,
    entity: Entity,
    source: SourceSpec,
    ctx: Context,
    rj: _Rejector,
    formats: list[str],
) -> pd.Series:
    f = entity.field(name)
    present = values.notna()
    if f.kind == "list":
        return split_list(values)
    if f.required:
        # A missing time is a bad time (the demo truth's word); other fields say which is missing.
        code = Reason.BAD_TIME if f.kind == "time" else Reason.MISSING_REQUIRED + name
        rj.reject((~present).to_numpy(), code, f"{name} is missing")
    if f.kind == "time":
        times = parse_times(values, formats, source.timezone or ctx.timezone)
        bad = present & times.isna()
        rj.reject(bad.to_numpy(), Reason.BAD_TIME, f"{name} is not a time ({formats})")
        return times
    if f.kind in ("int", "float"):
        numbers = pd.to_numeric(values, errors="coerce")
        bad = present & numbers.isna()
        if f.kind == "int":
            bad |= numbers.notna() & (numbers != np.floor(numbers))
        if f.low is not None:
            bad |= numbers < f.low
        if f.high is not None:
            bad |= numbers > f.high
        rj.reject(bad.to_numpy(), Reason.INVALID_VALUE, f"{name} must be a number in range")
        if f.kind == "int":
            return numbers.where(~bad).astype("Int64")
        return numbers.where(~bad).astype("Float64")
    if f.kind == "code":
        values = each(values, lambda v: unicodedata.normalize("NFKC", v).upper())
        if name == "credit_code":
            return values  # checked with its check character in the entity rules
        assert f.pattern is not None
        bad = values.notna() & ~values.fillna("").str.fullmatch(f.pattern)
        rj.reject(bad.to_numpy(), Reason.INVALID_VALUE, f"{name} does not match {f.pattern}")
        return values
    if f.choices is not None:
        bad = values.notna() & ~values.isin(f.choices)
        rj.reject(
            bad.to_numpy(), Reason.INVALID_VALUE, f"{name} must be one of {', '.join(f.choices)}"
        )
    return values


def _entity_rules(
    frame: pd.DataFrame,
    entity: Entity,
    source: SourceSpec,
    ctx: Context,
    rj: _Rejector,
    counts: dict[str, int],
) -> None:
    """Rules that span fields: mirrors of the schema's check constraints, identifiers, PII."""
    if entity.time_order:
        first = frame[entity.time_order[0]]
        for later in entity.time_order[1:]:
            bad = frame[later].notna() & first.notna() & (frame[later] < first)
            rj.reject(bad.to_numpy(), Reason.INCONSISTENT_TIMES, f"{later} precedes {first.name}")
    if entity.name == "incidents":
        closed = (frame["status"] == "closed").to_numpy(dtype=bool)
        has_closed_at = frame["closed_at"].notna().to_numpy(dtype=bool)
        rj.reject(
            closed & ~has_closed_at,
            Reason.INCONSISTENT_STATUS,
            "a closed incident needs closed_at",
        )
        # Only a closed or rejected (不予受理) incident has closed_at (schema); an end time on
        # another status is when it was handled, so it is kept as handled_at.
        finished = closed | (frame["status"] == "rejected").to_numpy(dtype=bool)
        moved = ~finished & has_closed_at
        if moved.any():
            handled = frame["handled_at"].copy()
            take = moved & handled.isna().to_numpy(dtype=bool)
            handled[take] = frame.loc[take, "closed_at"]
            frame["handled_at"] = handled
            frame.loc[moved, "closed_at"] = pd.NaT
            counts["closed_at_moved"] = counts.get("closed_at_moved", 0) + int(moved.sum())
    elif entity.name == "admin_areas":
        code = frame["code"].fillna("000000000000")
        level = frame["level"]
        parent = pd.Series(None, index=frame.index, dtype=object)
        parent[level == "district"] = code.str[:4] + "00000000"
        parent[level == "street"] = code.str[:6] + "000000"
        parent[level == "community"] = code.str[:9] + "000"
        shape_ok = (
            ((level == "city") & (code.str[4:] == "00000000"))
            | ((level == "district") & (code.str[4:6] != "00") & (code.str[6:] == "000000"))
            | ((level == "street") & (code.str[6:9] != "000") & (code.str[9:] == "000"))
            | ((level == "community") & (code.str[9:] != "000"))
        )
        given = frame["parent_code"]
        bad = ~shape_ok | (given.notna() & (given != parent))
        rj.reject(bad.to_numpy(), Reason.INVALID_VALUE, "code does not fit its level and parent")
        frame["parent_code"] = parent
    elif entity.name == "grids":
        code = frame["code"].fillna("")
        community = frame["community_code"].where(frame["community_code"].notna(), code.str[:12])
        bad = (code.str[:12] != community) | (code.str[12:] == "000")
        rj.reject(bad.to_numpy(), Reason.INVALID_VALUE, "grid code is not its community + 001-999")
        frame["community_code"] = community
        kind = frame["kind"].where(
            ~(frame["special_type"].notna() & (frame["kind"] == "basic")), "special"
        )
        bad = (kind == "special") != frame["special_type"].notna()
        rj.reject(bad.to_numpy(), Reason.INVALID_VALUE, "a special grid needs its special_type")
        frame["kind"] = kind
    elif entity.name == "door_plates":
        _door_plates(frame)
    elif entity.name == "organisations":
        codes = each(frame["credit_code"], normalise_credit_code)
        valid = each(codes, is_valid_credit_code)
        failed = np.array([v is False for v in valid], dtype=bool)  # None: no code, not invalid
        rj.reject(failed, Reason.INVALID_CREDIT_CODE, "credit code fails its GB 32100 check")
        frame["credit_code"] = codes
        frame["credit_code_valid"] = valid
    elif entity.name == "people":
        _people(frame, ctx, rj)


def _door_plates(frame: pd.DataFrame) -> None:
    """A door plate is a standard address of level door: its text defaults to road + number
    (中山路12号), its kind to gate when it leads into a compound, else building."""
    frame["level"] = "door"
    number = frame["door_number"].fillna("").str.replace(r"号$", "", regex=True)
    written = frame["road"].fillna("") + number + "号"
    frame["address"] = frame["address"].where(frame["address"].notna(), written)
    inferred = pd.Series(
        np.where(frame["compound"].notna(), "gate", "building"), index=frame.index, dtype=object
    )
    frame["door_kind"] = frame["door_kind"].where(frame["door_kind"].notna(), inferred)


def _people(frame: pd.DataFrame, ctx: Context, rj: _Rejector) -> None:
    if ctx.hmac_key is None:
        raise ConfigurationError(
            "loading people needs the HMAC key: set GEOPLATFORM_HMAC_KEY_FILE (preferred) or "
            "GEOPLATFORM_HMAC_KEY"
        )
    ids = each(frame["id_number"], normalise_id_number)
    valid = pd.Series([isinstance(v, str) and is_valid_id_number(v) for v in ids], dtype=bool)
    rj.reject(
        (ids.notna() & ~valid).to_numpy(),
        Reason.INVALID_ID_NUMBER,
        "ID number fails its GB 11643 check (length, birth date or check character)",
    )
    frame["id_number_hmac"] = keyed_hmac(ctx.hmac_key, ids)
    frame["id_number_valid"] = valid
    good = ids.where(valid)
    # Gender and birth year come from the ID number when the delivery has none.
    derived_gender = each(good, lambda v: "M" if int(v[16]) % 2 else "F")
    derived_year = pd.to_numeric(good.str[6:10], errors="coerce").astype("Int64")
    frame["gender"] = frame["gender"].where(frame["gender"].notna(), derived_gender)
    frame["birth_year"] = frame["birth_year"].where(frame["birth_year"].notna(), derived_year)
    if frame["household_key"].notna().any():
        hashed = keyed_hmac(ctx.hmac_key, frame["household_key"])
        frame["household_key"] = [None if v is None else v[:16].hex() for v in hashed]
    del frame["id_number"]


def _geometry(
    frame: pd.DataFrame,
    raw: RawBatch,
    source: SourceSpec,
    ctx: Context,
    rj: _Rejector,
    counts: dict[str, int],
) -> None:
    entity = source.target
    n = len(frame)
    frame["_lon"] = np.full(n, np.nan)
    frame["_lat"] = np.full(n, np.nan)
    frame["_poly"] = None
    if entity.geometry == "none":
        return
    crs = _crs(source, raw)
    if entity.geometry == "point":
        if raw.geometry is not None:
            geoms = np.asarray(raw.geometry, dtype=object)
            present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
            x = np.full(n, np.nan)
            y = np.full(n, np.nan)
            x[present] = shapely.get_x(geoms[present])
            y[present] = shapely.get_y(geoms[present])
        elif source.x is not None and source.y is not None:
            x = pd.to_numeric(_column(raw, source, source.x), errors="coerce").to_numpy(float)
            y = pd.to_numeric(_column(raw, source, source.y), errors="coerce").to_numpy(float)
        else:
            x = y = np.full(n, np.nan)
        _points(frame, x, y, crs, source, ctx, rj, counts)
        return
    if raw.geometry is None:  # pragma: no cover - the pipeline model requires a geometry file
        raise PipelineInvalid(f"source {source.name}: polygons need a geometry file")
    geoms = np.asarray(raw.geometry, dtype=object)
    if crs is None:
        raise PipelineInvalid(f"source {source.name}: {raw.file} has no CRS: declare `crs`")
    geoms = reject_too_complex(geoms, ctx, rj)
    if not crs.is_wgs84:
        geoms = shapely.transform(
            geoms, lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], crs))
        )
    if entity.geometry == "line":
        _lines(frame, geoms, rj)
        return
    repaired = repair_polygons(geoms)
    fixed = int((repaired.repaired & ~repaired.emptied).sum())
    counts["repaired_polygons"] = counts.get("repaired_polygons", 0) + fixed
    rj.reject(repaired.emptied, Reason.INVALID_GEOMETRY, "no polygon left after make_valid")
    polys = repaired.geometries
    frame["_poly"] = polys
    if entity.geometry == "footprint":
        ok = ~repaired.emptied
        points = np.full(n, None, dtype=object)
        points[ok] = shapely.point_on_surface(polys[ok])
        lon = np.full(n, np.nan)
        lat = np.full(n, np.nan)
        lon[ok], lat[ok] = shapely.get_x(points[ok]), shapely.get_y(points[ok])
        check = check_points(lon, lat, ctx.extent)
        rj.reject(check.rejected, Reason.OUTSIDE_CITY, "footprint is outside the city")
        frame["_lon"], frame["_lat"] = lon, lat


def _lines(frame: pd.DataFrame, geoms: NDArray[np.object_], rj: _Rejector) -> None:
    """Road centre lines as MultiLineStrings; anything else (a point, a polygon, an empty or
    invalid line) is rejected."""
    kinds = shapely.get_type_id(geoms)
    line = (kinds == shapely.GeometryType.LINESTRING) | (
        kinds == shapely.GeometryType.MULTILINESTRING
    )
    usable = line & ~shapely.is_empty(geoms) & shapely.is_valid(geoms)
    rj.reject(~usable, Reason.INVALID_GEOMETRY, "not a valid (multi)line")
    out = np.full(len(geoms), None, dtype=object)
    single = usable & (kinds == shapely.GeometryType.LINESTRING)
    out[single] = [shapely.MultiLineString([g]) for g in geoms[single]]
    multi = usable & ~single
    out[multi] = geoms[multi]
    frame["_poly"] = out


def _crs(source: SourceSpec, raw: RawBatch) -> SourceCRS | None:
    return source.source_crs or raw.file_crs


def _points(
    frame: pd.DataFrame,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    crs: SourceCRS | None,
    source: SourceSpec,
    ctx: Context,
    rj: _Rejector,
    counts: dict[str, int],
) -> None:
    """Check delivered points; rows with no point but an address wait for the geocoder."""
    missing = ~(np.isfinite(x) & np.isfinite(y))
    can_geocode = source.target.geocodable & frame["_address"].notna().to_numpy()
    if (~missing).any():
        if crs is None:
            raise PipelineInvalid(f"source {source.name}: points without a CRS: declare `crs`")
        check = check_points(x, y, ctx.extent, crs=crs)
        reason = check.reason
        for code in (Reason.NULL_ISLAND, Reason.OUTSIDE_CITY):
            rj.reject(np.asarray(reason == code), code, _POINT_TEXT[code])
        if source.on_swapped == "reject":
            rj.reject(check.swapped, Reason.SWAPPED_LATLON, "latitude and longitude are swapped")
        else:
            swapped = int(check.swapped.sum())
            counts["swapped_latlon"] = counts.get("swapped_latlon", 0) + swapped
        frame["_lon"] = np.where(missing, np.nan, check.lon)
        frame["_lat"] = np.where(missing, np.nan, check.lat)
    unplaceable = missing & ~can_geocode
    if source.locates:
        rj.reject(unplaceable, Reason.MISSING_COORDINATES, _POINT_TEXT[Reason.MISSING_COORDINATES])


_POINT_TEXT: Final = {
    Reason.MISSING_COORDINATES: "no coordinates and no address to geocode",
    Reason.NULL_ISLAND: "coordinates are (0, 0)",
    Reason.OUTSIDE_CITY: "point lies outside the city (also when swapped)",
}
