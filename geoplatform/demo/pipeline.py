"""The pipeline that loads a generated city is the committed preset file
``etl/pipelines/demo-PRESET.yaml``: the generator copies it, changing only its ``root:`` line so
that relative paths start at the city folder. Nothing of the pipeline is invented in code.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from geoplatform.demo.presets import active

#: The committed pipelines, next to the package in a source checkout (the editable install).
PIPELINES_DIR = Path(__file__).resolve().parents[2] / "etl" / "pipelines"
ROOT_LINE = re.compile(r"^root:.*$", re.MULTILINE)


def committed_pipeline(preset: str | None = None) -> Path:
    """Path of the committed pipeline for ``preset`` (the active one by default)."""
    name = preset or active().name
    path = PIPELINES_DIR / f"demo-{name}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"no committed pipeline for preset {name!r} at {path}")
    return path


def pipeline_text(city_dir: Path, yaml_path: Path, preset: str | None = None) -> str:
    """The committed pipeline with ``root:`` pointing from ``yaml_path``'s folder to the city."""
    text = committed_pipeline(preset).read_text(encoding="utf-8")
    root = Path(os.path.relpath(Path(city_dir).resolve(), Path(yaml_path).resolve().parent))
    relative = root.as_posix()
    if not ROOT_LINE.search(text):
        raise ValueError(f"{committed_pipeline(preset)} has no top-level root: line")
    return ROOT_LINE.sub(f"root: {relative}", text, count=1)


def write_pipeline(city_dir: Path, yaml_path: Path, preset: str | None = None) -> Path:
    """Write the pipeline for the city in ``city_dir`` to ``yaml_path``."""
    yaml_path = Path(yaml_path)
    yaml_path.parent.mkdir(parents=True, exist_ok=True)
    yaml_path.write_text(pipeline_text(city_dir, yaml_path, preset), encoding="utf-8")
    return yaml_path
