"""The layer catalog: tiles/layers.yaml turned into typed, checked layers.

The YAML says what each layer exposes; the database says what type each column has. Both are
read once in the app's lifespan (`load_catalog`, then `Catalog.bind`), never at import time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import psycopg
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from geoplatform.errors import ConfigurationError, GeoPlatformError, NotFound

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
MAX_ZOOM = 22


class LayerForbidden(GeoPlatformError, PermissionError):
    """A restricted layer was asked for by a caller that may not see it."""

    http_status = 403


ROLE_NAMES = ("public", "analyst", "officer", "admin")
PERSON_TABLES = frozenset({"public.people"})
"""Tables whose rows are persons: their detail reads are audited and never cached."""


class LayerAccess(BaseModel):
    """What one role gets of a layer (`access:` in layers.yaml)."""

    model_config = ConfigDict(extra="forbid")

    properties: list[str] | None = None
    """The columns this role sees (default: all the layer's properties)."""
    detail_zoom: int | None = Field(default=None, ge=0, le=MAX_ZOOM + 1)
    """Minimum zoom for point detail (above maxzoom: clusters only, never points)."""
    features: bool = True
    """Whether the items endpoints answer (False: tiles and clusters only)."""


class Importance(BaseModel):
    """One key of a layer's importance order: a column, descending when written `-column`."""

    column: str
    descending: bool


class LayerStyle(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["boundary", "fill", "circle"]
    color: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")
    width: float = 1.0
    opacity: float = 1.0


class LayerConfig(BaseModel):
    """One layer as the YAML declares it."""

    model_config = ConfigDict(extra="forbid")

    title: str
    description: str = ""
    table: str
    id: str
    geometry: str
    point: str | None = None
    where: dict[str, str | int] = Field(default_factory=dict)
    properties: list[str]
    minzoom: int = Field(ge=0, le=MAX_ZOOM)
    maxzoom: int = Field(ge=0, le=MAX_ZOOM)
    detail_zoom: int = Field(ge=0, le=MAX_ZOOM)
    overview: Literal["none", "clusters"] = "none"
    h3_offset: float = Field(default=-1.0, ge=-8, le=4)
    cap: int = Field(ge=1, le=100_000)
    importance: list[str]
    category: str | None = None
    time: str | None = None
    label: str | None = None
    restricted: bool = False
    access: dict[Literal["public", "analyst", "officer", "admin"], LayerAccess] | None = None
    """Per-role rules; roles not named do not see the layer at all. None: every role, fully."""
    features: bool = True
    """Whether items answer (set per role by `access`)."""
    style: LayerStyle
    version_key: str | None = None
    simplify_px: float | None = None

    def point_or_geometry(self) -> str:
        return self.point or self.geometry

    @field_validator("table")
    @classmethod
    def _table(cls, value: str) -> str:
        parts = value.split(".")
        if len(parts) != 2 or not all(_NAME.match(p) for p in parts):
            raise ValueError("table must be schema.table in lower case")
        if parts[0] == "restricted":
            raise ValueError("the restricted schema is never served")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> LayerConfig:
        names = [self.id, self.geometry, *self.properties, *self.where]
        names += [n.lstrip("-") for n in self.importance]
        names += [n for n in (self.point, self.category, self.time, self.label) if n]
        for name in names:
            if not _NAME.match(name):
                raise ValueError(f"{name!r} is not a plain column name")
        exposed = set(self.properties)
        for optional in (self.category, self.time, self.label):
            if optional and optional not in exposed:
                raise ValueError(f"{optional!r} must be one of the exposed properties")
        if not self.minzoom <= self.maxzoom:
            raise ValueError("minzoom must not exceed maxzoom")
        if self.overview == "clusters" and self.point is None and self.geometry != "geom":
            raise ValueError("clusters need a point column (point: geom)")
        if not self.importance:
            raise ValueError("importance needs at least one column (a stable order)")
        for role, rule in (self.access or {}).items():
            extra = set(rule.properties or ()) - exposed
            if extra:
                raise ValueError(f"access.{role}: {sorted(extra)[0]!r} is not a property")
        return self

    def for_role(self, role: str) -> LayerConfig | None:
        """This layer as `role` sees it, or None when the role may not see it at all."""
        if self.access is None:
            if not self.restricted:
                return self
            if role not in ("officer", "admin"):
                return None
            return self.model_copy(update={"restricted": False})
        rule = self.access.get(role)  # type: ignore[call-overload]
        if rule is None:
            return None
        props = list(self.properties if rule.properties is None else rule.properties)
        update: dict[str, Any] = {
            "properties": props,
            "access": None,
            "restricted": False,
            "features": rule.features,
        }
        if rule.detail_zoom is not None:
            update["detail_zoom"] = rule.detail_zoom
        for optional in ("category", "time", "label"):
            if getattr(self, optional) not in props:
                update[optional] = None
        return self.model_copy(update=update)


class CatalogDefaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    extent: int = Field(default=4096, ge=256, le=16384)
    buffer: int = Field(default=64, ge=0, le=1024)
    max_layers: int = Field(default=10, ge=1, le=50)
    simplify_px: float = Field(default=1.0, ge=0, le=16)


class CatalogFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    defaults: CatalogDefaults = Field(default_factory=CatalogDefaults)
    layers: dict[str, LayerConfig]


@dataclass(frozen=True)
class Column:
    """A column exposed by a layer, with the database's type for it."""

    name: str
    pg_type: str

    @property
    def json_type(self) -> str:
        if self.pg_type in ("smallint", "integer", "bigint"):
            return "integer"
        if self.pg_type in ("double precision", "real", "numeric"):
            return "number"
        if self.pg_type == "boolean":
            return "boolean"
        if self.pg_type in ("jsonb", "json"):
            return "object"  # declared delivery attributes: shown, not filtered or sorted on
        return "string"

    @property
    def is_scalar(self) -> bool:
        """Whether filters and sort keys may name the column (not a JSON object)."""
        return self.json_type != "object"

    @property
    def is_time(self) -> bool:
        return self.pg_type.startswith("timestamp") or self.pg_type == "date"


@dataclass(frozen=True)
class Layer:
    """A served layer: configuration plus the column types found in the database."""

    name: str
    config: LayerConfig
    schema: str
    table: str
    columns: dict[str, Column]
    geometry_type: str
    extent: int
    buffer: int
    simplify_px: float
    importance: tuple[Importance, ...] = field(default=())

    @property
    def holds_persons(self) -> bool:
        """True for layers of people: detail reads are audited, never cached."""
        return self.config.table in PERSON_TABLES

    @property
    def point_column(self) -> str:
        return self.config.point or self.config.geometry

    @property
    def version_key(self) -> str:
        return self.config.version_key or self.table

    @property
    def is_polygon(self) -> bool:
        return "POLYGON" in self.geometry_type.upper()

    def property(self, name: str) -> Column:
        """The exposed column `name`, or a 400-class error naming the allowed ones."""
        column = self.columns.get(name)
        if column is None:
            allowed = ", ".join(self.columns)
            raise UnknownProperty(f"layer {self.name!r} has no property {name!r} (has: {allowed})")
        return column

    def clustered_at(self, z: int) -> bool:
        """True when tiles at zoom z show H3 clusters rather than features."""
        return self.config.overview == "clusters" and z < self.config.detail_zoom

    def h3_resolution(self, z: int) -> int:
        """H3 resolution of the clusters at zoom z (at most 11, the stored resolution).

        A zoom halves the pixel size; an H3 resolution divides the edge by about sqrt(7). So the
        resolution grows by log(2)/log(sqrt 7) = 0.712 a zoom, and clusters keep one on-screen
        size (~24 px apart with the default offset -1): ~150 clusters in a full tile, not 700.
        """
        return max(0, min(11, round(z * 0.7124 + self.config.h3_offset)))


class UnknownProperty(GeoPlatformError, KeyError):
    http_status = 400

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Catalog:
    """All layers by name, in catalog order."""

    layers: dict[str, Layer]
    defaults: CatalogDefaults

    def get(self, name: str, *, allow_restricted: bool = False) -> Layer:
        layer = self.layers.get(name)
        if layer is None:  # names only the layers this catalog (this caller's view) holds
            raise NotFound(f"no layer {name!r} (layers: {', '.join(self.layers)})")
        if layer.config.restricted and not allow_restricted:
            raise LayerForbidden(
                f"layer {name!r} is restricted: it needs a role that may see people"
            )
        return layer

    def public(self) -> list[Layer]:
        return [layer for layer in self.layers.values() if not layer.config.restricted]

    def view(self, role: str) -> Catalog:
        """The catalog as `role` sees it: only its layers, only its columns, its zooms."""
        layers: dict[str, Layer] = {}
        for name, layer in self.layers.items():
            cfg = layer.config.for_role(role)
            if cfg is None:
                continue
            if cfg is not layer.config:
                columns = {p: layer.columns[p] for p in cfg.properties}
                layer = replace(layer, config=cfg, columns=columns)
            layers[name] = layer
        return Catalog(layers=layers, defaults=self.defaults)

    def parse_list(self, text: str) -> list[Layer]:
        """A comma list of layer names: duplicates removed (first kept), at most max_layers."""
        names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
        if not names:
            raise UnknownProperty("no layer named")
        if len(names) > self.defaults.max_layers:
            raise TooManyLayers(
                f"{len(names)} layers asked for; a tile holds at most {self.defaults.max_layers}"
            )
        return [self.get(n) for n in names]


class TooManyLayers(GeoPlatformError, ValueError):
    http_status = 400


def read_catalog_file(path: Path) -> CatalogFile:
    """Parse and validate the YAML; errors name the layer and the field."""
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigurationError(f"layer catalog {path} not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"layer catalog {path} is not valid YAML: {exc}") from exc
    try:
        return CatalogFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigurationError(f"layer catalog {path}: {where}: {first['msg']}") from exc


_COLUMNS_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a
WHERE a.attrelid = %(rel)s::regclass AND a.attnum > 0 AND NOT a.attisdropped
"""


CLUSTER_CELL_COLUMN = "h3_r11"


def bind_catalog(conn: psycopg.Connection[Any], file: CatalogFile) -> Catalog:
    """Check every layer against the database and record its column types."""
    layers: dict[str, Layer] = {}
    for name, cfg in file.layers.items():
        if not _NAME.match(name):
            raise ConfigurationError(f"layer name {name!r} must be lower case letters, digits, _")
        try:
            rows = conn.execute(_COLUMNS_SQL, {"rel": cfg.table}).fetchall()
        except psycopg.errors.UndefinedTable as exc:
            conn.rollback()
            raise ConfigurationError(f"layer {name}: table {cfg.table} does not exist") from exc
        types = {str(r[0]): str(r[1]) for r in rows}
        wanted = {cfg.id, cfg.geometry, cfg.point_or_geometry(), *cfg.properties, *cfg.where}
        wanted |= {n.lstrip("-") for n in cfg.importance}
        if cfg.overview == "clusters":
            wanted.add(CLUSTER_CELL_COLUMN)  # clusters group rows by their stored H3 cell
        missing = sorted(n for n in wanted if n not in types)
        if missing:
            raise ConfigurationError(f"layer {name}: {cfg.table} has no column {missing[0]}")
        geometry_type = types[cfg.geometry]
        if not geometry_type.startswith("geometry"):
            raise ConfigurationError(f"layer {name}: {cfg.geometry} is not a geometry column")
        schema, table = cfg.table.split(".")
        importance = tuple(
            Importance(column=n.lstrip("-"), descending=n.startswith("-")) for n in cfg.importance
        )
        layers[name] = Layer(
            name=name,
            config=cfg,
            schema=schema,
            table=table,
            columns={p: Column(p, types[p]) for p in cfg.properties},
            geometry_type=geometry_type,
            extent=file.defaults.extent,
            buffer=file.defaults.buffer,
            simplify_px=cfg.simplify_px
            if cfg.simplify_px is not None
            else file.defaults.simplify_px,
            importance=importance,
        )
    return Catalog(layers=layers, defaults=file.defaults)
