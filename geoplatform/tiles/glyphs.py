"""Glyph PBFs for MapLibre labels, built at install time from a font package.

MapLibre asks `/fonts/{fontstack}/{range}.pbf` for signed-distance-field glyphs in blocks of 256
code points. This module reads an OpenType font (or one face of a collection such as Debian's
`fonts-noto-cjk` NotoSansCJK-Regular.ttc) with fontTools, flattens each outline and computes the
exact signed distance of every pixel to it (numpy), so no rasteriser or prebuilt binary is needed.
The output matches what MapLibre expects of server glyphs: 24 px em, a 3 px border, radius 8 and
cutoff 0.25 (the edge at 192/255).

By default the blocks MapLibre draws itself with `localIdeographFontFamily` (CJK ideographs, kana,
Hangul, full-width forms) are skipped: the browser's own CJK font renders those, and 30,000
ideographs would take minutes to build. `include_local=True` builds them too (for a map that turns
local glyphs off).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from geoplatform.errors import ConfigurationError

FONT_SIZE = 24
BORDER = 3
RADIUS = 8.0
CUTOFF = 0.25
CURVE_STEPS = 6
#: The fontstack name the style's `text-font` uses.
DEFAULT_FONTSTACK = "Noto Sans CJK SC Regular"
DEFAULT_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
#: code point blocks MapLibre renders locally when `localIdeographFontFamily` is set (its
#: codePointUsesLocalIdeographFontFamily), as half-open ranges
LOCAL_BLOCKS = (
    (0x1100, 0x1200), (0x2E80, 0xA4D0), (0xA960, 0xA980), (0xAC00, 0xD800),
    (0xF900, 0xFB00), (0xFE10, 0xFE20), (0xFE30, 0xFE50), (0xFF00, 0xFFF0),
)  # fmt: skip


@dataclass(frozen=True)
class Glyph:
    id: int
    bitmap: bytes
    width: int
    height: int
    left: int
    top: int
    advance: int


def _renders_locally(code: int) -> bool:
    return any(lo <= code < hi for lo, hi in LOCAL_BLOCKS)


class _FlattenPen:
    """A fontTools pen that records each contour as a polyline (curves cut into steps)."""

    def __init__(self, glyph_set: Any) -> None:
        from fontTools.pens.basePen import BasePen

        outer = self

        class Pen(BasePen):  # type: ignore[misc]
            def _moveTo(self, pt: tuple[float, float]) -> None:  # noqa: N802
                outer.contours.append([pt])

            def _lineTo(self, pt: tuple[float, float]) -> None:  # noqa: N802
                outer.contours[-1].append(pt)

            def _curveToOne(self, p1: Any, p2: Any, p3: Any) -> None:  # noqa: N802
                p0 = outer.contours[-1][-1]
                for i in range(1, CURVE_STEPS + 1):
                    t = i / CURVE_STEPS
                    u = 1 - t
                    a, b, c, d = u**3, 3 * u * u * t, 3 * u * t * t, t**3
                    outer.contours[-1].append(
                        (
                            a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                            a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1],
                        )
                    )

            def _qCurveToOne(self, p1: Any, p2: Any) -> None:  # noqa: N802
                p0 = outer.contours[-1][-1]
                for i in range(1, CURVE_STEPS + 1):
                    t = i / CURVE_STEPS
                    u = 1 - t
                    outer.contours[-1].append(
                        (
                            u * u * p0[0] + 2 * u * t * p1[0] + t * t * p2[0],
                            u * u * p0[1] + 2 * u * t * p1[1] + t * t * p2[1],
                        )
                    )

            def _closePath(self) -> None:  # noqa: N802
                if outer.contours and outer.contours[-1][0] != outer.contours[-1][-1]:
                    outer.contours[-1].append(outer.contours[-1][0])

            _endPath = _closePath  # noqa: N815 (fontTools' name)

        self.contours: list[list[tuple[float, float]]] = []
        self.pen = Pen(glyph_set)


def signed_distance(contours: list[np.ndarray], xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Distance of each point (xs, ys) to the outline: negative inside (non-zero winding)."""
    a = np.concatenate([c[:-1] for c in contours])
    b = np.concatenate([c[1:] for c in contours])
    px, py = xs.ravel()[:, None], ys.ravel()[:, None]
    ax, ay, bx, by = a[:, 0][None], a[:, 1][None], b[:, 0][None], b[:, 1][None]
    dx, dy = bx - ax, by - ay
    length2 = np.where(dx * dx + dy * dy == 0, 1.0, dx * dx + dy * dy)
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / length2, 0.0, 1.0)
    dist = np.sqrt((px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2).min(axis=1)
    # winding number: edges crossing the horizontal ray to the right of the point
    upward = (ay <= py) & (by > py)
    downward = (ay > py) & (by <= py)
    cross = dx * (py - ay) - (px - ax) * dy
    winding = (upward & (cross > 0)).sum(axis=1) - (downward & (cross < 0)).sum(axis=1)
    inside = winding != 0
    signed: np.ndarray = np.where(inside, -dist, dist).reshape(xs.shape)
    return signed


def render_glyph(code: int, contours: list[np.ndarray], advance: float, ascender: float) -> Glyph:
    """One glyph's SDF bitmap and metrics (contours already in pixels, y up)."""
    if not contours:
        return Glyph(code, b"", 0, 0, 0, 0, round(advance))
    points = np.concatenate(contours)
    x0, y0 = math.floor(points[:, 0].min()), math.floor(points[:, 1].min())
    x1, y1 = math.ceil(points[:, 0].max()), math.ceil(points[:, 1].max())
    width, height = max(x1 - x0, 1), max(y1 - y0, 1)
    cols = np.arange(width + 2 * BORDER) + x0 - BORDER + 0.5
    rows = y1 + BORDER - np.arange(height + 2 * BORDER) - 0.5
    xs, ys = np.meshgrid(cols, rows)
    d = signed_distance(contours, xs, ys)
    values = np.clip(np.round(255 - 255 * (d / RADIUS + CUTOFF)), 0, 255).astype(np.uint8)
    return Glyph(code, values.tobytes(), width, height, x0, y1 - round(ascender), round(advance))


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, wire: int, payload: bytes | int) -> bytes:
    key = _varint(number << 3 | wire)
    if wire == 0:
        assert isinstance(payload, int)
        return key + _varint(payload)
    assert isinstance(payload, bytes)
    return key + _varint(len(payload)) + payload


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 31) if value >= 0 else ((-value) << 1) - 1


def encode_range(fontstack: str, start: int, glyphs: list[Glyph]) -> bytes:
    """The `glyphs` protobuf MapLibre reads: one fontstack, its range, its glyphs."""
    body = _field(1, 2, fontstack.encode()) + _field(2, 2, f"{start}-{start + 255}".encode())
    for g in glyphs:
        # an empty glyph (a space) has no bitmap field: MapLibre then allocates the border
        bitmap = _field(2, 2, g.bitmap) if g.bitmap else b""
        msg = (
            _field(1, 0, g.id)
            + bitmap
            + _field(3, 0, g.width)
            + _field(4, 0, g.height)
            + _field(5, 0, _zigzag(g.left))
            + _field(6, 0, _zigzag(g.top))
            + _field(7, 0, g.advance)
        )
        body += _field(3, 2, msg)
    return _field(1, 2, body)


def empty_range(fontstack: str, start: int) -> bytes:
    """A valid answer for a block the font has no glyphs in (or that the browser draws)."""
    return encode_range(fontstack, start, [])


def _open_font(path: Path, family_hint: str) -> Any:
    from fontTools.ttLib import TTCollection, TTFont

    if not path.is_file():
        raise ConfigurationError(
            f"no font at {path}: install Debian's fonts-noto-cjk (make install does) or pass --font"
        )
    if path.suffix.lower() in (".ttc", ".otc"):
        faces = TTCollection(str(path)).fonts
        for face in faces:
            if family_hint in (face["name"].getDebugName(1) or ""):
                return face
        return faces[0]
    return TTFont(str(path))


def build_glyphs(
    font: Path = DEFAULT_FONT,
    out_dir: Path = Path(".geoplatform/glyphs"),
    fontstack: str = DEFAULT_FONTSTACK,
    *,
    include_local: bool = False,
) -> int:
    """Write `{out_dir}/{fontstack}/{start}-{end}.pbf` for every block the font covers; returns
    the number of glyphs written."""
    face = _open_font(font, fontstack.replace(" Regular", "").replace(" Bold", ""))
    scale = FONT_SIZE / face["head"].unitsPerEm
    ascender = face["hhea"].ascent * scale
    cmap: dict[int, str] = face.getBestCmap()
    glyph_set = face.getGlyphSet()
    hmtx = face["hmtx"]
    blocks: dict[int, list[int]] = {}
    for code in sorted(cmap):
        if code > 0xFFFF or (not include_local and _renders_locally(code)):
            continue
        blocks.setdefault(code // 256, []).append(code)
    target = out_dir / fontstack
    target.mkdir(parents=True, exist_ok=True)
    written = 0
    for block, codes in sorted(blocks.items()):
        glyphs = []
        for code in codes:
            name = cmap[code]
            recorder = _FlattenPen(glyph_set)
            glyph_set[name].draw(recorder.pen)
            contours = [
                np.asarray(c, dtype=np.float64) * scale for c in recorder.contours if len(c) > 2
            ]
            glyphs.append(render_glyph(code, contours, hmtx[name][0] * scale, ascender))
        start = block * 256
        tmp = target / f".{start}-{start + 255}.pbf.tmp"
        tmp.write_bytes(encode_range(fontstack, start, glyphs))
        tmp.replace(target / f"{start}-{start + 255}.pbf")
        written += len(glyphs)
    return written
