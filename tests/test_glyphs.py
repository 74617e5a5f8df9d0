"""Glyph PBFs for labels: the signed distance field, the protobuf MapLibre reads, the /fonts route.

MapLibre reading them in a real browser is checked by tests/test_viewer_browser.py (labels with
digits render with no "Unable to load glyph range" warning).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geoplatform.tiles.glyphs import (
    BORDER,
    DEFAULT_FONT,
    DEFAULT_FONTSTACK,
    build_glyphs,
    encode_range,
    render_glyph,
    signed_distance,
)
from tests.tiles_fixtures import client, live_server, seed_city, tile_settings


def _read(buf: bytes) -> list[tuple[int, int | bytes]]:
    """(field, value) pairs of one protobuf message: varints and length-delimited bytes."""
    out: list[tuple[int, int | bytes]] = []
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        if key & 7 == 0:
            value, i = _varint(buf, i)
            out.append((key >> 3, value))
        else:
            size, i = _varint(buf, i)
            out.append((key >> 3, buf[i : i + size]))
            i += size
    return out


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def test_signed_distance_of_a_square() -> None:
    square = [np.array([[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], dtype=float)]
    xs = np.array([5.0, 1.0, 13.0, -4.0])
    ys = np.array([5.0, 5.0, 5.0, -3.0])
    d = signed_distance(square, xs, ys)
    assert d.tolist() == pytest.approx([-5.0, -1.0, 3.0, 5.0])


def test_a_glyph_bitmap_is_its_box_plus_the_border_and_edges_sit_at_192() -> None:
    square = [np.array([[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], dtype=float)]
    g = render_glyph(65, square, advance=12.0, ascender=20.0)
    assert (g.width, g.height, g.left, g.top, g.advance) == (10, 10, 0, -10, 12)
    sdf = np.frombuffer(g.bitmap, np.uint8).reshape(10 + 2 * BORDER, 10 + 2 * BORDER)
    assert sdf[BORDER + 5, BORDER + 5] == 255  # deep inside
    assert sdf[0, 0] < 150  # outside the outline
    # the pixels either side of the left edge straddle the 192 threshold
    assert sdf[BORDER + 5, BORDER] > 191 > sdf[BORDER + 5, BORDER - 1]


def test_encoded_range_names_the_stack_and_range_and_skips_empty_bitmaps() -> None:
    square = [np.array([[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], dtype=float)]
    glyphs = [render_glyph(32, [], 6.0, 20.0), render_glyph(48, square, 6.0, 20.0)]
    ((field, stack),) = _read(encode_range("F", 0, glyphs))
    assert field == 1
    parts = _read(stack)  # type: ignore[arg-type]
    assert parts[0] == (1, b"F")
    assert parts[1] == (2, b"0-255")
    space, zero = (dict(_read(p)) for f, p in parts[2:] if f == 3)  # type: ignore[arg-type]
    assert space[1] == 32
    assert 2 not in space  # MapLibre allocates the border of an empty glyph itself
    assert zero[1] == 48
    assert len(zero[2]) == (4 + 2 * BORDER) ** 2  # type: ignore[arg-type]


@pytest.mark.skipif(
    not DEFAULT_FONT.is_file(), reason="fonts-noto-cjk is installed by make install"
)
def test_build_and_serve_the_glyphs(database_url: str, tmp_path: Path) -> None:
    out = tmp_path / "glyphs"
    count = build_glyphs(out_dir=out)
    assert count > 500
    files = {p.name for p in (out / DEFAULT_FONTSTACK).iterdir()}
    assert "0-255.pbf" in files
    assert "19968-20223.pbf" not in files  # CJK ideographs are drawn by the browser
    seed_city(database_url)
    with live_server(tile_settings(database_url, tmp_path, glyphs_dir=out)) as base:
        http = client(base)
        style = http.get("/styles/onemap.json").json()
        assert style["glyphs"].endswith("/fonts/{fontstack}/{range}.pbf")
        ok = http.get(f"/fonts/{DEFAULT_FONTSTACK},Other Font/0-255.pbf")
        assert ok.status_code == 200
        assert ok.content == (out / DEFAULT_FONTSTACK / "0-255.pbf").read_bytes()
        empty = http.get(f"/fonts/{DEFAULT_FONTSTACK}/19968-20223.pbf")
        assert empty.status_code == 200
        assert empty.content == encode_range(DEFAULT_FONTSTACK, 19968, [])
        assert http.get(f"/fonts/{DEFAULT_FONTSTACK}/0-300.pbf").status_code == 400
        assert http.get(f"/fonts/{DEFAULT_FONTSTACK}/1-256.pbf").status_code == 400
        assert http.get("/fonts/No Such Font/0-255.pbf").status_code == 404
