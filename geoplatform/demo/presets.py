"""City presets: everything that differs between demo cities (codes, names, CRS, geography, how
the departments deliver), so one geometry and rendering machinery serves every city.

A preset is chosen per generation (:func:`use_preset`); the modules that need a city-specific
table read it with :func:`active`. ``wuhai`` is the default.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from geoplatform.demo import vocab, vocab_jiaxing
from geoplatform.demo.vocab import DistrictSpec


@dataclass(frozen=True)
class CoreSpec:
    """An urban core: district, latitude, longitude offset from the river, sigma, weight, half
    size in metres (see :func:`geoplatform.demo.admin.build_frame`)."""

    district_code6: str
    lat: float
    river_offset: float
    sigma: float
    weight: float
    half_size: tuple[float, float]


@dataclass(frozen=True)
class Preset:
    """A demo city's constants."""

    name: str
    city_code: str
    city_name: str
    city_short: str
    province: str
    districts: tuple[DistrictSpec, ...]
    #: which district lies west of the river, north-east and south-east of it
    west: str
    north_east: str
    south_east: str
    metric_crs: str
    zoned_crs: str
    zone_shift: float
    extent_lon: tuple[float, float]
    extent_lat: tuple[float, float]
    centre: tuple[float, float]
    radius: tuple[float, float]
    river_lon: float
    split_lat: float
    cores: tuple[CoreSpec, ...]
    community_count: int
    town_communities: int
    grid_count: int
    community_stems: tuple[str, ...]
    village_stems: tuple[str, ...]
    road_stems: tuple[str, ...]
    old_road_stems: tuple[str, ...]
    old_road_suffixes: tuple[str, ...]
    #: (suffix, weight) for north–south and east–west urban roads
    ns_suffixes: tuple[tuple[str, float], ...]
    ew_suffixes: tuple[tuple[str, float], ...]
    #: lanes of a town seat: name patterns with {stem}
    town_lanes: tuple[str, ...]
    #: villages address houses by 村民小组 (``N组``) instead of named lanes
    village_groups: bool
    compound_stems: tuple[str, ...]
    compound_types: tuple[str, ...]
    dormitory_names: tuple[str, ...]
    developers: tuple[str, ...]
    industrial_towns: tuple[str, ...]
    hospitals: dict[str, tuple[str, ...]]
    school_pattern: str
    phone_area: str
    ethnicities: tuple[tuple[str, float], ...]
    minority_names: bool
    other_area_codes: tuple[int, ...]
    #: the organisation register's name prefixes (city, province short)
    org_prefixes: tuple[str, str]

    def district_name(self, code6: str) -> str:
        return next(spec.name for spec in self.districts if spec.code6 == code6)


WUHAI = Preset(
    name="wuhai",
    city_code=vocab.CITY_CODE,
    city_name=vocab.CITY_NAME,
    city_short=vocab.CITY_SHORT,
    province=vocab.PROVINCE_NAME,
    districts=vocab.DISTRICTS,
    west="150304",
    north_east="150302",
    south_east="150303",
    metric_crs="EPSG:4545",
    zoned_crs="EPSG:4524",
    zone_shift=36_000_000.0,
    extent_lon=(106.6, 107.2),
    extent_lat=(39.2, 39.9),
    centre=(106.90, 39.55),
    radius=(0.27, 0.32),
    river_lon=106.80,
    split_lat=39.562,
    cores=(
        CoreSpec("150302", 39.675, 0.045, 3000.0, 1.0, (4200.0, 4800.0)),
        CoreSpec("150304", 39.505, -0.055, 2200.0, 0.8, (3000.0, 3400.0)),
        CoreSpec("150303", 39.435, 0.085, 1800.0, 0.6, (2500.0, 2600.0)),
    ),
    community_count=83,
    town_communities=17,
    grid_count=640,
    community_stems=vocab.COMMUNITY_STEMS,
    village_stems=vocab.VILLAGE_STEMS,
    road_stems=vocab.ROAD_STEMS,
    old_road_stems=vocab.OLD_ROAD_STEMS,
    old_road_suffixes=("路", "街", "一路", "二路"),
    ns_suffixes=(("大街", 0.4), ("街", 0.6)),
    ew_suffixes=(("路", 1.0),),
    town_lanes=("{stem}一街", "{stem}二街", "{stem}三街"),
    village_groups=False,
    compound_stems=vocab.COMPOUND_STEMS,
    compound_types=vocab.COMPOUND_TYPES,
    dormitory_names=vocab.DORMITORY_NAMES,
    developers=vocab.DEVELOPERS,
    industrial_towns=("150302101000", "150304101000", "150303103000"),
    hospitals={
        "150302": ("乌海市人民医院", "海勃湾区人民医院"),
        "150304": ("乌达区人民医院",),
        "150303": ("海南区人民医院",),
    },
    school_pattern="乌海市第{n}中学",
    phone_area="0473",
    ethnicities=vocab.ETHNICITIES,
    minority_names=True,
    other_area_codes=vocab.OTHER_AREA_CODES,
    org_prefixes=("乌海市", "内蒙古"),
)

JIAXING = Preset(
    name="jiaxing",
    city_code=vocab_jiaxing.CITY_CODE,
    city_name=vocab_jiaxing.CITY_NAME,
    city_short=vocab_jiaxing.CITY_SHORT,
    province=vocab_jiaxing.PROVINCE_NAME,
    districts=vocab_jiaxing.DISTRICTS,
    west="330411",
    north_east="330402",
    south_east="330421",
    metric_crs="EPSG:4549",
    zoned_crs="EPSG:4528",
    zone_shift=40_000_000.0,
    extent_lon=(120.45, 121.1),
    extent_lat=(30.45, 31.05),
    centre=(120.78, 30.75),
    radius=(0.26, 0.24),
    river_lon=120.72,
    split_lat=30.71,
    cores=(
        CoreSpec("330402", 30.775, 0.05, 2800.0, 1.0, (3800.0, 4000.0)),
        CoreSpec("330411", 30.77, -0.05, 2000.0, 0.7, (2800.0, 3000.0)),
        CoreSpec("330421", 30.64, 0.11, 1800.0, 0.6, (2400.0, 2400.0)),
    ),
    community_count=78,
    town_communities=24,
    grid_count=600,
    community_stems=vocab_jiaxing.COMMUNITY_STEMS,
    village_stems=vocab_jiaxing.VILLAGE_STEMS,
    road_stems=vocab_jiaxing.ROAD_STEMS,
    old_road_stems=vocab_jiaxing.OLD_ROAD_STEMS,
    old_road_suffixes=("街", "路", "弄", "大街"),
    ns_suffixes=(("路", 0.45), ("街", 0.25), ("巷", 0.15), ("弄", 0.1), ("里", 0.05)),
    ew_suffixes=(("路", 0.8), ("街", 0.2)),
    town_lanes=("{stem}老街", "{stem}南弄", "{stem}北里"),
    village_groups=True,
    compound_stems=vocab_jiaxing.COMPOUND_STEMS,
    compound_types=vocab_jiaxing.COMPOUND_TYPES,
    dormitory_names=vocab_jiaxing.DORMITORY_NAMES,
    developers=vocab_jiaxing.DEVELOPERS,
    industrial_towns=("330402101000", "330411101000", "330421101000"),
    hospitals={
        "330402": ("嘉兴市第一医院", "南湖区人民医院"),
        "330411": ("秀洲区人民医院",),
        "330421": ("嘉善县人民医院",),
    },
    school_pattern="嘉兴市第{n}中学",
    phone_area="0573",
    ethnicities=(("汉族", 0.985), ("土家族", 0.005), ("苗族", 0.005), ("回族", 0.005)),
    minority_names=False,
    other_area_codes=vocab_jiaxing.OTHER_AREA_CODES,
    org_prefixes=("嘉兴市", "浙江"),
)

PRESETS: dict[str, Preset] = {preset.name: preset for preset in (WUHAI, JIAXING)}
DEFAULT_PRESET = "wuhai"

_ACTIVE: ContextVar[Preset] = ContextVar("demo_preset", default=WUHAI)


def get_preset(name: str) -> Preset:
    """The preset called ``name`` (ValueError naming the known ones otherwise)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}: one of {', '.join(sorted(PRESETS))}") from None


def active() -> Preset:
    """The preset of the generation under way (wuhai outside one)."""
    return _ACTIVE.get()


@contextmanager
def use_preset(preset: Preset) -> Iterator[Preset]:
    """Make ``preset`` the active one for the duration of a generation."""
    token = _ACTIVE.set(preset)
    try:
        yield preset
    finally:
        _ACTIVE.reset(token)
