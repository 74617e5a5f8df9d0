"""Pipeline YAML validation: clear errors naming file, line and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from geoplatform.errors import ConfigurationError, PipelineInvalid
from geoplatform.etl.pipeline import load_pipeline, parse_pipeline
from tests.etl_support import PIPELINE

GOOD = """\
pipeline: p
city:
  extent: [106.6, 39.2, 107.2, 39.9]
sources:
  - name: hotline
    entity: incidents
    format: csv
    path: hotline.csv
    crs: gcj02
    key: 工单编号
    x: 经度
    y: 纬度
    columns: {category: 事件大类}
"""


def _error(text: str) -> str:
    with pytest.raises(PipelineInvalid) as info:
        parse_pipeline(text, Path("/etc/p.yaml"))
    assert isinstance(info.value, ConfigurationError)
    assert info.value.exit_code == 78
    return info.value.message


def test_the_test_city_pipeline_is_valid(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text(PIPELINE, encoding="utf-8")
    pipeline = load_pipeline(tmp_path / "pipeline.yaml")
    assert pipeline.name == "test_city"
    order = [s.name for s in pipeline.ordered_sources()]
    assert order[:3] == ["admin", "grids", "buildings"]
    assert pipeline.source("hotline").python_encoding == "gb18030"
    assert pipeline.source("grid_app").python_encoding == "utf-8-sig"


def test_good_pipeline_parses() -> None:
    pipeline = parse_pipeline(GOOD, Path("/etc/p.yaml"))
    assert pipeline.source("hotline").key_columns == ["工单编号"]
    assert pipeline.resolve("hotline.csv") == Path("/etc/hotline.csv")


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("crs: gcj02", "crs: EPSG:99", 9, "unknown CRS"),
        ("entity: incidents", "entity: incident", 6, "unknown entity 'incident'"),
        ("{category: 事件大类}", "{categry: 事件大类}", 13, "no field 'categry'"),
        ("format: csv", "format: dbf", 7, "format"),
        ("    x: 经度\n", "", 5, "give both x and y"),
        ("key: 工单编号", "mode: stream", 10, "mode"),
        ("extent: [106.6, 39.2, 107.2, 39.9]", "extent: [107.2, 39.2, 106.6, 39.9]", 3, "extent"),
    ],
)
def test_errors_name_the_line_and_the_problem(old: str, new: str, line: int, words: str) -> None:
    assert old in GOOD
    message = _error(GOOD.replace(old, new))
    assert message.startswith(f"/etc/p.yaml:{line}:"), message
    assert words in message


def test_broken_yaml_and_duplicates() -> None:
    assert _error("city: [\n").startswith("/etc/p.yaml:2: not valid YAML")
    twice = GOOD + GOOD[GOOD.index("  - name") :]
    assert "used twice" in _error(twice)
    assert "watermark only makes sense" in _error(GOOD + "    watermark: reported_at\n")


def test_missing_file() -> None:
    with pytest.raises(PipelineInvalid, match="no such pipeline file"):
        load_pipeline("/nonexistent/p.yaml")


def test_the_nightly_pipeline_is_valid() -> None:
    root = Path(__file__).resolve().parents[1]
    pipeline = load_pipeline(root / "etl" / "pipelines" / "nightly.yaml")
    assert pipeline.name == "nightly"
    assert [s.name for s in pipeline.ordered_sources()][:7] == [
        "admin_areas",
        "grids",
        "buildings",
        "roads",
        "standard_addresses",
        "door_plates",
        "compound_aliases",
    ]
    assert all(s.mode == "append" for s in pipeline.spec.sources if s.entity == "incidents")
