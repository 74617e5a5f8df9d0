"""The ETL end to end on a small messy delivery, against the real PostGIS.

Every row accounted for; planted bad rows rejected with their reason; GCJ-02/BD-09 within 1 m;
points in their true grid; no personal identifier in clear in public tables; reruns rewrite
nothing; a new day loads only that day; snapshots retire what disappeared; dry runs write nothing.
"""

from __future__ import annotations

import hmac
from hashlib import sha256
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.engine import Engine

from geoplatform.errors import EtlLocked
from geoplatform.etl.pipeline import load_pipeline
from geoplatform.etl.runner import LOCK_KEY, RunOptions, RunResult, run_pipeline
from geoplatform.settings import Settings
from tests.etl_support import (
    Truth,
    incident_rows,
    true_grid,
    write_city,
    write_hotline,
)

HMAC_KEY = "test-hmac-key-0123456789abcdef"
GEOD = Geod(ellps="WGS84")


@pytest.fixture
def etl_settings(database_url: str, tmp_path: Path) -> Settings:
    key_file = tmp_path / "hmac.key"
    key_file.write_text(HMAC_KEY + "\n")
    return Settings(database_url=database_url, home=tmp_path / "home", hmac_key_file=key_file)


@pytest.fixture
def city(tmp_path: Path) -> tuple[Path, Truth]:
    out = tmp_path / "delivery"
    return out / "pipeline.yaml", write_city(out)


def _run(engine: Engine, settings: Settings, path: Path, **options: object) -> RunResult:
    return run_pipeline(engine, load_pipeline(path), settings, RunOptions(**options))  # type: ignore[arg-type]


def test_every_row_is_accounted_for_and_bad_rows_rejected_with_reason(
    engine: Engine, etl_settings: Settings, city: tuple[Path, Truth]
) -> None:
    path, truth = city
    result = _run(engine, etl_settings, path)
    assert result.status == "succeeded", [(s.name, s.error) for s in result.sources]
    for source in result.sources:
        c = source.counts
        assert source.balanced, (source.name, c)
        if source.name in truth.rows:
            assert c["read"] == truth.rows[source.name], source.name
    with engine.connect() as conn:
        rejects = conn.execute(
            text("SELECT source, row_number, reason_code FROM etl.rejects WHERE run_id = :r"),
            {"r": result.run_id},
        ).all()
        stored = conn.execute(
            text("SELECT counts FROM etl.runs WHERE id = :r"), {"r": result.run_id}
        ).scalar_one()
    got: dict[str, dict[int, str]] = {}
    for source, row, reason in rejects:
        got.setdefault(source, {})[row] = reason
    for source, expected in truth.rejected.items():
        assert got.get(source, {}) == expected, source
    assert stored["buildings"]["repaired_polygons"] == 1
    assert stored["hotline"]["rejected"] == len(truth.rejected["hotline"])


def _distances(engine: Engine, source: str, table: str, truth: Truth) -> np.ndarray:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT source_key, ST_X(geom), ST_Y(geom), grid_code, h3_r11 FROM {table}"
                " WHERE source = :s"
            ),
            {"s": source},
        ).all()
    points = truth.points[source]
    assert {r[0] for r in rows} == set(points)
    lon = np.array([r[1] for r in rows])
    lat = np.array([r[2] for r in rows])
    tlon = np.array([points[r[0]][0] for r in rows])
    tlat = np.array([points[r[0]][1] for r in rows])
    for key, _x, _y, grid, cell in rows:
        assert grid == true_grid(*points[key]), key
        assert cell is not None
    return np.asarray(GEOD.inv(lon, lat, tlon, tlat)[2])


@pytest.mark.parametrize(
    ("source", "table"),
    [
        ("hotline", "incidents"),  # GCJ-02
        ("video_ai", "incidents"),  # BD-09
        ("grid_app", "incidents"),  # WGS84
        ("organisations", "organisations"),  # GCJ-02
        ("people", "people"),
    ],
)
def test_points_within_a_metre_and_in_their_true_grid(
    engine: Engine, etl_settings: Settings, city: tuple[Path, Truth], source: str, table: str
) -> None:
    path, truth = city
    assert _run(engine, etl_settings, path, only=("admin", "grids", source)).status == "succeeded"
    metres = _distances(engine, source, table, truth)
    assert metres.max() < 1.0, metres.max()


def test_personal_identifiers_only_in_restricted_schema_as_keyed_hmac(
    engine: Engine, etl_settings: Settings, city: tuple[Path, Truth]
) -> None:
    path, _ = city
    _run(engine, etl_settings, path, only=("admin", "grids", "people"))
    people = pd.read_excel(path.parent / "people.xlsx", dtype=str, engine="calamine")
    with engine.connect() as conn:
        public = conn.execute(text("SELECT people::text FROM people")).scalars().all()
        ident = conn.execute(
            text(
                "SELECT p.source_key, i.id_number_hmac, i.id_number_valid, i.name, p.gender,"
                " p.birth_year FROM people p JOIN restricted.person_identities i"
                " ON i.person_id = p.id"
            )
        ).all()
        rejects = conn.execute(text("SELECT row_data::text FROM etl.rejects")).scalars().all()
    assert len(ident) == len(people) - 1
    blob = "\n".join(public + rejects)
    for id_number, name in zip(people["公民身份号码"], people["姓名"], strict=True):
        assert id_number not in blob
        assert id_number.upper() not in blob
        assert name not in "\n".join(public)
    by_key = {r[0]: r for r in ident}
    for _, row in people.iterrows():
        if row["人员编号"] not in by_key:
            continue
        _, digest, valid, name, gender, birth_year = by_key[row["人员编号"]]
        expected = hmac.new(HMAC_KEY.encode(), row["公民身份号码"].upper().encode(), sha256)
        assert bytes(digest) == expected.digest()
        assert valid
        assert name == row["姓名"]
        assert gender == ("M" if row["性别"] == "男" else "F")
        assert birth_year == int(row["公民身份号码"][6:10])


def test_second_run_rewrites_nothing(
    engine: Engine, etl_settings: Settings, city: tuple[Path, Truth]
) -> None:
    path, _ = city
    first = _run(engine, etl_settings, path)
    second = _run(engine, etl_settings, path)
    assert all(s.status == "skipped" for s in second.sources)
    full = _run(engine, etl_settings, path, full=True)
    assert full.status == "succeeded"
    for source in full.sources:
        assert source.counts["loaded"] == 0, source.name
        assert source.counts["unchanged"] == first.source(source.name).counts["loaded"]
        assert source.balanced
    with engine.connect() as conn:
        versions = dict(conn.execute(text("SELECT layer, version FROM meta.layer_versions")).all())
    assert versions["incidents"] == 3  # three incident sources in the first run, none since


def test_a_new_day_of_incidents_loads_only_that_day(
    engine: Engine, etl_settings: Settings, city: tuple[Path, Truth]
) -> None:
    path, _ = city
    _run(engine, etl_settings, path, only=("admin", "grids", "hotline"))
    rows, _ = incident_rows(np.random.default_rng(99), 25, pd.Timestamp("2025-03-10"), "NEW")
    from tests.etl_support import _hotline_line

    write_hotline(path.parent / "hotline.csv", [_hotline_line(r) for r in rows], mode="a")
    again = _run(engine, etl_settings, path, only=("hotline",))
    hotline = again.source("hotline")
    # only the new day is read; the one planted row whose time cannot be read is rejected again
    assert hotline.counts["read"] == 26
    assert hotline.counts["rejected_by_reason"] == {"bad_time": 1}
    assert hotline.counts["loaded"] == hotline.counts["inserted"] == 25
    assert hotline.counts["behind_watermark"] > 0
    with engine.connect() as conn:
        written = conn.execute(
            text("SELECT count(*), min(reported_at) FROM incidents WHERE run_id = :r"),
            {"r": again.run_id},
        ).one()
    assert written[0] == 25
    assert written[1] >= pd.Timestamp("2025-03-10", tz="Asia/Shanghai")


def test_snapshot_retires_keys_missing_from_the_delivery(
    engine: Engine, etl_settings: Settings, city: tuple[Path, Truth]
) -> None:
    path, _ = city
    _run(engine, etl_settings, path, only=("admin", "grids", "organisations"))
    csv = path.parent / "organisations.csv"
    frame = pd.read_csv(csv, dtype=str)
    frame.iloc[2:].to_csv(csv, index=False)
    again = _run(engine, etl_settings, path, only=("organisations",)).source("organisations")
    assert again.counts["retired"] == 2
    assert again.counts["loaded"] == 0
    with engine.connect() as conn:
        keys = set(conn.execute(text("SELECT source_key FROM organisations")).scalars())
    assert not keys & set(frame["统一社会信用代码"].iloc[:2])


def test_dry_run_writes_nothing_but_the_run_log(
    engine: Engine, etl_settings: Settings, city: tuple[Path, Truth]
) -> None:
    path, _ = city
    result = _run(engine, etl_settings, path, dry_run=True)
    assert result.status == "succeeded"
    assert all(s.status == "dry_run" and s.balanced for s in result.sources)
    assert result.source("hotline").counts["loaded"] > 0
    with engine.connect() as conn:
        counts = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM grids),"
                " (SELECT count(*) FROM etl.rejects), (SELECT count(*) FROM etl.watermarks),"
                " (SELECT counts->'hotline'->>'loaded' FROM etl.runs WHERE id = :r)"
            ),
            {"r": result.run_id},
        ).one()
    assert counts[:4] == (0, 0, 0, 0)
    assert int(counts[4]) == result.source("hotline").counts["loaded"]


def test_a_second_run_exits_at_once_while_the_lock_is_held(
    engine: Engine, etl_settings: Settings, city: tuple[Path, Truth]
) -> None:
    path, _ = city
    with engine.connect() as holder:
        assert holder.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar()
        with pytest.raises(EtlLocked) as info:
            _run(engine, etl_settings, path)
        assert info.value.exit_code == 75
        holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
    assert _run(engine, etl_settings, path).status == "succeeded"


def test_a_failing_source_rolls_back_alone(
    engine: Engine, etl_settings: Settings, city: tuple[Path, Truth]
) -> None:
    path, _ = city
    (path.parent / "video_ai.csv").unlink()
    result = _run(engine, etl_settings, path)
    assert result.status == "failed"
    assert result.exit_code == 65
    assert result.source("video_ai").status == "failed"
    assert "no file matches" in (result.source("video_ai").error or "")
    assert result.source("hotline").status == "loaded"


def test_a_bug_in_one_source_fails_that_source_and_the_others_load(
    engine: Engine,
    etl_settings: Settings,
    city: tuple[Path, Truth],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An unexpected exception is recorded as that source's failure (exit 65), not a crash."""
    import geoplatform.etl.runner as runner

    real = runner._load_source

    def broken(conn, state, source, result):  # type: ignore[no-untyped-def]
        if source.name == "hotline":
            raise AttributeError("simulated bug")
        return real(conn, state, source, result)

    monkeypatch.setattr(runner, "_load_source", broken)
    path, _ = city
    result = _run(engine, etl_settings, path)
    assert result.status == "failed"
    assert result.exit_code == 65
    hotline = result.source("hotline")
    assert hotline.status == "failed"
    assert hotline.error == "internal error: AttributeError: simulated bug"
    assert result.source("grid_app").status == "loaded"
    with engine.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM etl.runs WHERE id = :r"), {"r": result.run_id}
        ).scalar_one()
    assert status == "failed"
