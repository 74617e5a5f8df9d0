"""Shared by the tests/test_access_*.py files: residents on the seeded city, role URLs."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import psycopg

from geoplatform.db.roles import role_url
from geoplatform.spatial.h3cells import lonlat_to_cells
from tests.tiles_fixtures import EAST, NORTH, SOUTH, WEST, _copy

GRIDS = [f"150302001001{i:03d}" for i in range(1, 5)]


def seed_people(url: str, *, people: int = 800, seed: int = 11) -> None:
    """Residents (with identities) over the seeded city's four grids; grid 4 holds only 7."""
    rng = np.random.default_rng(seed)
    midx, midy = (WEST + EAST) / 2, (SOUTH + NORTH) / 2
    lon = np.clip(rng.normal(106.80, 0.006, people), WEST + 1e-4, EAST - 1e-4)
    lat = np.clip(rng.normal(39.66, 0.005, people), SOUTH + 1e-4, NORTH - 1e-4)
    col = (lon >= midx).astype(int)
    row = (lat < midy).astype(int)
    grid_index = row * 2 + col
    # grid 4 (south-east) is nearly empty: a small count that must never be published
    keep = np.flatnonzero(grid_index != 3)
    few = np.flatnonzero(grid_index == 3)[:7]
    chosen = np.concatenate([keep, few])
    h3 = lonlat_to_cells(lon, lat, 11)
    buf = io.StringIO()
    for n, i in enumerate(chosen):
        gender = "MF"[n % 2]
        kind = ("registered", "floating")[n % 3 == 0]
        buf.write(
            f"{gender}\t{1950 + n % 60}\t{kind}\tSRID=4326;POINT({lon[i]} {lat[i]})\t"
            f"{GRIDS[grid_index[i]]}\t{h3[i]}\tt\tp{n}\n"
        )
    with psycopg.connect(url) as conn:
        _copy(
            conn,
            "people",
            "gender birth_year residence_type geom grid_code h3_r11 source source_key",
            buf,
        )
        conn.execute(
            "INSERT INTO restricted.person_identities (person_id, id_number_hmac, id_number_valid,"
            " name, phone, key_person_category)"
            " SELECT id, sha256(id::text::bytea), true, '张' || id, '1390000' || lpad(id::text, 4,"
            " '0'), CASE WHEN id % 50 = 0 THEN 'secret' END FROM people"
        )
        conn.execute(
            "INSERT INTO meta.layer_versions (layer, version) VALUES ('people', 1)"
            " ON CONFLICT DO NOTHING"
        )
        conn.execute("ANALYZE")


def as_role(url: str, role: str) -> str:
    """The test database's URL for one of the migration-made roles."""
    return role_url(url, role)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
