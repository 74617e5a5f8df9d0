"""Pipeline definitions: a YAML file declares the sources; this module validates it.

Errors name the file, the line and what is wrong (``nightly.yaml:14: sources[2].crs: unknown CRS
'EPSG:99'``), so an operator can fix a pipeline without reading code. The YAML is composed once
to keep every node's line, then validated with pydantic; pydantic's error locations are mapped
back to lines.

Format (one file, paths relative to it)::

    pipeline: nightly                 # name; defaults to the file name
    timezone: Asia/Shanghai           # default for naive timestamps
    city: {extent: [106.6, 39.2, 107.2, 39.9]}   # lon/lat box; the city polygon wins if loaded
    sources:
      - name: hotline                 # unique; the `source` of every row it loads
        entity: incidents             # admin_areas, grids, buildings, standard_addresses,
                                      # people, organisations, incidents, devices
        path: incidents/hotline*.csv  # file or glob (or `query:` + `database_url_env:`)
        format: csv                   # csv, xlsx, shapefile, geopackage, geojson, sql
        encoding: gbk                 # csv/shapefile text: utf-8 (BOM or not), gbk, gb18030
        crs: gcj02                    # EPSG:nnnn, wgs84, cgcs2000, gcj02, bd09
        mode: append                  # snapshot: keys missing from a delivery are retired
        key: 工单编号                   # natural key column(s)
        x: 经度                        # point columns (tables); geometry files need none
        y: 纬度
        address: 事发地址               # address column(s), joined in order
        columns: {category: 事件大类, reported_at: 上报时间}
        constants: {channel: hotline}
        values: {status: {已结案: closed}}
        time_format: "%Y/%m/%d %H:%M" # or "iso" (the default)
        watermark: reported_at        # append sources: skip rows at or before the last load
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from geoplatform.errors import PipelineInvalid
from geoplatform.etl.entities import ENTITIES, Entity
from geoplatform.spatial.crs import InvalidCRS, SourceCRS, parse_crs

Format = Literal["csv", "xlsx", "shapefile", "geopackage", "geojson", "sql"]
GEOMETRY_FORMATS = frozenset({"shapefile", "geopackage", "geojson"})
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_ENCODINGS = {
    "utf-8": "utf-8-sig",  # a BOM is tolerated whatever is declared: it is never data
    "utf8": "utf-8-sig",
    "utf-8-sig": "utf-8-sig",
    "utf-8-bom": "utf-8-sig",
    "gbk": "gb18030",  # GB18030 is a superset: files labelled GBK often carry its characters
    "gb2312": "gb18030",
    "gb18030": "gb18030",
    "cp936": "gb18030",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CitySpec(_Model):
    """Where the city is: points outside are rejected (the loaded city polygon refines it)."""

    extent: tuple[float, float, float, float] = Field(
        description="lon/lat box (min lon, min lat, max lon, max lat)"
    )

    @field_validator("extent")
    @classmethod
    def _ordered(cls, v: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        if not (v[0] < v[2] and v[1] < v[3]):
            raise ValueError("extent must be [min lon, min lat, max lon, max lat]")
        if not (-180 <= v[0] <= 180 and -180 <= v[2] <= 180 and -90 <= v[1] <= 90):
            raise ValueError("extent must be in degrees (EPSG:4326)")
        return v


class GeocodeSpec(_Model):
    """Matcher options for the whole pipeline."""

    min_score: float | None = Field(
        default=None, ge=0, le=1, description="Override the matcher's acceptance threshold"
    )
    candidates: int = Field(default=5, ge=1, le=20, description="Candidates kept for review")


class SourceSpec(_Model):
    """One delivered file (or glob, or query) and how its rows become one entity's rows."""

    name: str
    entity: str
    format: Format
    path: str | None = None
    query: str | None = None
    database_url_env: str | None = None
    encoding: str | None = None
    layer: str | None = None
    sheet: str | int | None = None
    crs: str | None = None
    mode: Literal["snapshot", "append"] = "snapshot"
    key: str | list[str] | None = None
    x: str | None = None
    y: str | None = None
    address: str | list[str] | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, str | int | float] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    time_format: str | list[str] = "iso"
    timezone: str | None = None
    watermark: str | None = None
    require_location: bool | None = None
    on_no_grid: Literal["reject", "flag"] = "reject"
    on_swapped: Literal["reject", "correct"] = "reject"
    building_source: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("source name must be lower-case letters, digits and _ (max 63)")
        return v

    @field_validator("entity")
    @classmethod
    def _entity(cls, v: str) -> str:
        if v not in ENTITIES:
            raise ValueError(f"unknown entity {v!r}: one of {', '.join(sorted(ENTITIES))}")
        return v

    @field_validator("columns", "constants", "values")
    @classmethod
    def _fields(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        entity = ENTITIES.get(str(info.data.get("entity")))
        if entity is not None:
            unknown = sorted(set(v) - set(entity.field_names))
            if unknown:
                raise ValueError(
                    f"{entity.name} have no field {unknown[0]!r}; "
                    f"fields: {', '.join(entity.field_names)}"
                )
        return v

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, v: str | None) -> str | None:
        if v is not None and v.strip().lower() not in _ENCODINGS:
            raise ValueError(f"unsupported encoding {v!r}: utf-8, utf-8-sig, gbk or gb18030")
        return v

    @field_validator("crs")
    @classmethod
    def _crs(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                parse_crs(v)
            except InvalidCRS as exc:
                raise ValueError(str(exc)) from None
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        if v is not None:
            _check_timezone(v)
        return v

    @model_validator(mode="after")
    def _consistent(self) -> SourceSpec:
        entity = self.target
        if self.format == "sql":
            if not self.query or not self.database_url_env:
                raise ValueError("a sql source needs `query` and `database_url_env`")
        elif not self.path:
            raise ValueError(f"a {self.format} source needs `path`")
        if self.format in GEOMETRY_FORMATS and (self.x or self.y):
            raise ValueError("x/y are for tables: geometry files carry their own geometry")
        if (self.x is None) != (self.y is None):
            raise ValueError("give both x and y, or neither")
        if entity.geometry != "point" and self.format not in GEOMETRY_FORMATS:
            raise ValueError(f"{entity.name} are polygons: deliver them as a geometry file")
        tabular_point = entity.geometry == "point" and self.format not in GEOMETRY_FORMATS
        placeable = self.x is not None or (entity.geocodable and self.address_columns)
        if tabular_point and not placeable:
            raise ValueError(f"{entity.name} need x/y columns (or an address to geocode)")
        if self.x is not None and self.crs is None:
            raise ValueError("a source with x/y columns must declare its crs")
        if self.address is not None and "address" in self.columns:
            raise ValueError("give the address either as `address` or in `columns`, not both")
        if self.key is None and entity.default_key is None:
            raise ValueError(f"{entity.name} need `key`: the natural key column(s)")
        if self.watermark is not None:
            if self.mode != "append":
                raise ValueError("a watermark only makes sense for an append source")
            if self.watermark not in entity.field_names or entity.field(self.watermark).kind != (
                "time"
            ):
                raise ValueError(f"watermark {self.watermark!r} must be a time field")
        if self.building_source is not None and entity.name != "standard_addresses":
            raise ValueError("building_source is for standard_addresses sources")
        return self

    @property
    def target(self) -> Entity:
        return ENTITIES[self.entity]

    @property
    def source_crs(self) -> SourceCRS | None:
        return parse_crs(self.crs) if self.crs else None

    @property
    def python_encoding(self) -> str:
        """The codec Python decodes with (BOM-tolerant UTF-8, GB18030 for GBK)."""
        return _ENCODINGS[(self.encoding or "utf-8").strip().lower()]

    @property
    def key_columns(self) -> list[str]:
        if self.key is None:
            entity_key = self.target.default_key
            assert entity_key is not None
            return [self.columns.get(entity_key, entity_key)]
        return [self.key] if isinstance(self.key, str) else list(self.key)

    @property
    def address_columns(self) -> list[str]:
        if self.address is None:
            return [self.columns["address"]] if "address" in self.columns else []
        return [self.address] if isinstance(self.address, str) else list(self.address)

    @property
    def locates(self) -> bool:
        """Whether a row that cannot be placed is rejected (else loaded without a point)."""
        if self.require_location is not None:
            return self.require_location
        return self.target.require_location


class PipelineSpec(_Model):
    """A whole pipeline file."""

    pipeline: str | None = None
    timezone: str = "Asia/Shanghai"
    city: CitySpec
    geocode: GeocodeSpec = GeocodeSpec()
    sources: list[SourceSpec] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        _check_timezone(v)
        return v

    @model_validator(mode="after")
    def _unique(self) -> PipelineSpec:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"source name {source.name!r} is used twice")
            seen.add(source.name)
        for source in self.sources:
            if source.building_source is not None and source.building_source not in seen:
                raise ValueError(f"building_source {source.building_source!r} is not a source")
        return self


def _check_timezone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


@dataclass(frozen=True)
class Pipeline:
    """A validated pipeline: the spec, where it came from and its name."""

    spec: PipelineSpec
    path: Path

    @property
    def name(self) -> str:
        return self.spec.pipeline or self.path.stem

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def source(self, name: str) -> SourceSpec:
        for s in self.spec.sources:
            if s.name == name:
                return s
        raise PipelineInvalid(f"{self.path}: no source named {name!r}")

    def ordered_sources(self, only: list[str] | None = None) -> list[SourceSpec]:
        """Sources in load order: reference layers first (admin areas, grids, buildings...)."""
        chosen = [self.source(n) for n in only] if only else list(self.spec.sources)
        return sorted(chosen, key=lambda s: s.target.rank)

    def resolve(self, path: str) -> Path:
        p = Path(os.path.expandvars(path)).expanduser()
        return p if p.is_absolute() else self.base_dir / p


# --- YAML with line numbers ---------------------------------------------------------------------

Loc = tuple[str | int, ...]


def _lines(node: yaml.Node, loc: Loc, out: dict[Loc, int]) -> None:
    out[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key.value)
            out[(*loc, name)] = key.start_mark.line + 1
            _lines(value, (*loc, name), out)
            out[(*loc, name)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*loc, i), out)


def _line_of(loc: Loc, lines: dict[Loc, int]) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def _describe(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "pipeline"


def parse_pipeline(text: str, path: Path) -> Pipeline:
    """Validate pipeline YAML text; `path` names it in errors and anchors relative paths."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 1
        raise PipelineInvalid(f"{path}:{line}: not valid YAML: {exc.problem}") from None
    if not isinstance(data, dict) or node is None:
        raise PipelineInvalid(f"{path}:1: a pipeline is a mapping with `city` and `sources`")
    lines: dict[Loc, int] = {}
    _lines(node, (), lines)
    try:
        spec = PipelineSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("[")))
            # pydantic adds the union member / validator name to some locations: drop those
            loc = tuple(p for p in loc if p not in ("str", "int", "float", "list[str]"))
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{path}:{_line_of(loc, lines)}: {_describe(loc)}: {message}")
        raise PipelineInvalid("\n".join(problems)) from None
    return Pipeline(spec=spec, path=path)


def load_pipeline(path: str | Path) -> Pipeline:
    """Read and validate a pipeline file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineInvalid(f"{p}: no such pipeline file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineInvalid(f"{p}: cannot read the pipeline ({exc})") from None
    return parse_pipeline(text, p.resolve())


def source_spec_dump(source: SourceSpec) -> dict[str, Any]:
    """A source as plain data (for the run log's options)."""
    return source.model_dump(exclude_defaults=True)
