"""Pipeline definitions: a YAML file declares the sources; this module validates it.

Errors name the file, the line and what is wrong (``nightly.yaml:14: sources[2].crs: unknown CRS
'EPSG:99'``), so an operator can fix a pipeline without reading code. The YAML is composed once
to keep every node's line, then validated with pydantic; pydantic's error locations are mapped
back to lines.

The format is documented in docs/pipelines.md and, for editors, as a JSON Schema
(`geoplatform etl schema`, generated from the models below).
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
_ADMIN_CODE = re.compile(r"^[0-9]{12}$")
_ENV = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)
AttributeType = Literal["text", "int", "float", "bool", "time"]
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
    code: str | None = Field(
        default=None,
        pattern=r"^[0-9]{4}00000000$",
        description="12-digit code of the city. When the delivery has no polygon for it, the "
        "city is derived as the union of its districts",
    )
    name: str | None = Field(default=None, description="Name of the city (乌海市)")
    parents: dict[str, str] = Field(
        default_factory=dict,
        description="Other admin areas the delivery names as parents but has no polygon for: "
        "code → name; each is derived as the union of its children",
    )

    @model_validator(mode="after")
    def _named(self) -> CitySpec:
        if (self.code is None) != (self.name is None):
            raise ValueError("give the city's code and name together")
        for code in self.parents:
            if not _ADMIN_CODE.match(code):
                raise ValueError(f"parents: {code!r} is not a 12-digit admin code")
        return self

    def derivable(self) -> dict[str, str]:
        """Admin areas the ETL may derive from their children: code → name."""
        out = dict(self.parents)
        if self.code is not None and self.name is not None:
            out[self.code] = self.name
        return out

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


class AttributeSpec(_Model):
    """One declared extra column carried into the entity's `attributes` JSON."""

    column: str = Field(description="The delivered column")
    type: AttributeType = Field(default="text", description="JSON type the value is stored as")


class SourceSpec(_Model):
    """One delivered file (or glob, or query) and how its rows become one entity's rows."""

    name: str = Field(description="Unique in the pipeline; the `source` of every row it loads")
    entity: str = Field(description="Target entity (see docs/pipelines.md)")
    format: Format = Field(description="csv, xlsx, shapefile, geopackage, geojson or sql")
    path: str | None = Field(default=None, description="File or glob, relative to `root`")
    query: str | None = Field(default=None, description="SQL for a `sql` source")
    database_url_env: str | None = Field(
        default=None, description="Environment variable holding the `sql` source's URL"
    )
    encoding: str | None = Field(
        default=None, description="Text encoding: utf-8 (BOM or not), gbk, gb18030"
    )
    layer: str | None = Field(default=None, description="Layer of a GeoPackage")
    sheet: str | int | None = Field(default=None, description="Sheet of an XLSX workbook")
    crs: str | None = Field(default=None, description="EPSG:nnnn, wgs84, cgcs2000, gcj02 or bd09")
    mode: Literal["snapshot", "append"] = Field(
        default="snapshot",
        description="snapshot: keys missing from a delivery are retired; append: rows add up",
    )
    key: str | list[str] | None = Field(
        default=None, description="Natural key column(s); several are joined with |"
    )
    x: str | None = Field(default=None, description="Longitude / easting column")
    y: str | None = Field(default=None, description="Latitude / northing column")
    address: str | list[str] | None = Field(
        default=None, description="Address column(s), joined in order, for geocoding"
    )
    columns: dict[str, str] = Field(
        default_factory=dict, description="Entity field → delivered column"
    )
    constants: dict[str, str | int | float] = Field(
        default_factory=dict, description="Entity field → the value every row gets"
    )
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Entity field → {delivered value: platform value}"
    )
    time_format: str | list[str] = Field(
        default="iso", description="strftime format(s) of time columns, or iso"
    )
    timezone: str | None = Field(
        default=None, description="Time zone of naive times (default: the pipeline's)"
    )
    watermark: str | None = Field(
        default=None, description="Append sources: time field; later runs read only newer rows"
    )
    require_location: bool | None = Field(
        default=None, description="Reject rows that cannot be placed (default per entity)"
    )
    on_no_grid: Literal["reject", "flag"] = Field(
        default="reject", description="A point in no grid: reject it, or load it without one"
    )
    on_swapped: Literal["reject", "correct"] = Field(
        default="reject", description="Swapped latitude/longitude: reject, or swap them back"
    )
    building_source: str | None = Field(
        default=None, description="standard_addresses: the buildings source its keys refer to"
    )
    attributes: dict[str, str | AttributeSpec] = Field(
        default_factory=dict,
        description="Extra columns to keep: attribute name → column (text) or {column, type}",
    )
    max_rejected_share: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="The source fails when more than this share of the rows read is rejected "
        "(1.0: only when every row is)",
    )
    depends_on: list[str] = Field(
        default_factory=list,
        description="Sources that must load first (besides the implicit ones); a source whose "
        "dependency failed is not run",
    )

    @field_validator("attributes")
    @classmethod
    def _attribute_names(cls, v: dict[str, str | AttributeSpec]) -> dict[str, str | AttributeSpec]:
        for name in v:
            if not _NAME.match(name):
                raise ValueError(
                    f"attribute name {name!r} must be lower-case letters, digits and _"
                )
        return v

    @property
    def attribute_specs(self) -> dict[str, AttributeSpec]:
        """Declared attributes with their types (a bare column name is text)."""
        return {
            k: v if isinstance(v, AttributeSpec) else AttributeSpec(column=v)
            for k, v in self.attributes.items()
        }

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
        if entity.geometry in ("polygon", "footprint") and self.format not in GEOMETRY_FORMATS:
            raise ValueError(f"{entity.name} are polygons: deliver them as a geometry file")
        if entity.geometry == "line" and self.format not in GEOMETRY_FORMATS:
            raise ValueError(f"{entity.name} are lines: deliver them as a geometry file")
        if entity.geometry == "none" and (self.x or self.y or self.crs):
            raise ValueError(f"{entity.name} have no geometry: no x/y or crs")
        tabular_point = entity.geometry == "point" and self.format not in GEOMETRY_FORMATS
        placeable = self.x is not None or (entity.geocodable and self.address_columns)
        if tabular_point and not placeable:
            raise ValueError(f"{entity.name} need x/y columns (or an address to geocode)")
        if self.x is not None and self.crs is None:
            raise ValueError("a source with x/y columns must declare its crs")
        if self.address is not None and "address" in self.columns:
            raise ValueError("give the address either as `address` or in `columns`, not both")
        for f in entity.admin_names:
            if f.name in self.columns and f.resolves in self.columns:
                raise ValueError(f"give {f.resolves} or {f.name} (a name), not both")
        if self.key is None and entity.default_key is None:
            raise ValueError(f"{entity.name} need `key`: the natural key column(s)")
        if self.watermark is not None:
            if self.mode != "append":
                raise ValueError("a watermark only makes sense for an append source")
            if self.watermark not in entity.field_names or entity.field(self.watermark).kind != (
                "time"
            ):
                raise ValueError(f"watermark {self.watermark!r} must be a time field")
        if self.building_source is not None and not entity.is_gazetteer:
            raise ValueError("building_source is for standard_addresses and door_plates sources")
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
    root: str | None = Field(
        default=None,
        description="Folder relative source paths start from (default: the pipeline's folder); "
        "$VAR, ${VAR} and ${VAR:-default} are expanded",
    )
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
            for other in source.depends_on:
                if other not in seen or other == source.name:
                    raise ValueError(f"source {source.name}: depends_on {other!r} is not a source")
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
        """Where relative source paths start: `root` (relative to the file) or its folder."""
        if self.spec.root is None:
            return self.path.parent
        root = Path(expand_variables(self.spec.root)).expanduser()
        return root if root.is_absolute() else self.path.parent / root

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
        p = Path(expand_variables(path)).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def dependencies(self, source: SourceSpec) -> list[str]:
        """Sources of this pipeline that ``source`` needs loaded first: declared ones and those
        its entity implies (grids need admin areas; located rows need grids; geocoded rows
        need the gazetteer; admin names need admin areas; an address table its buildings)."""
        needs = set(IMPLIED_DEPENDENCIES.get(source.entity, ()))
        if source.target.located:
            needs.add("grids")
        if any(f.name in source.columns for f in source.target.admin_names):
            needs.add("admin_areas")
        out = [
            other.name
            for other in self.spec.sources
            if other.name != source.name
            and (other.entity in needs or other.name in source.depends_on)
            and other.target.rank < source.target.rank
        ]
        out += [n for n in source.depends_on if n not in out]
        if source.building_source and source.building_source not in out:
            out.append(source.building_source)
        return out


#: What the matcher reads: the sources a geocoded source waits for.
GAZETTEER_ENTITIES = ("standard_addresses", "door_plates", "roads", "compound_aliases", "landmarks")
#: Entities whose sources a source of the key entity needs loaded first.
IMPLIED_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "grids": ("admin_areas",),
    "standard_addresses": ("admin_areas", "buildings"),
    "door_plates": ("admin_areas", "buildings"),
    "people": GAZETTEER_ENTITIES,
    "organisations": GAZETTEER_ENTITIES,
    "incidents": GAZETTEER_ENTITIES,
}


def expand_variables(text: str) -> str:
    """Expand $VAR, ${VAR} and ${VAR:-default} (an unset variable without a default stays as
    written, so the error names it)."""

    def one(m: re.Match[str]) -> str:
        name = m["braced"] or m["bare"]
        value = os.environ.get(name)
        if value:
            return value
        if m["default"] is not None:
            return m["default"]
        return m[0]

    return _ENV.sub(one, text)


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
