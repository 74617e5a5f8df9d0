"""`geoplatform fonts build`: glyph PBFs for map labels from an installed font package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geoplatform.cli.common import out, settings_from_env

fonts_app = typer.Typer(help="Glyph PBFs the map's labels are drawn with.")


@fonts_app.command("build")
def build(
    font: Annotated[
        Path, typer.Option(help="OpenType font or collection (Debian: fonts-noto-cjk).")
    ] = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Glyph folder; default <home>/glyphs.")
    ] = None,
    fontstack: Annotated[
        str, typer.Option(help="Font name the style asks for.")
    ] = "Noto Sans CJK SC Regular",
    include_local: Annotated[
        bool,
        typer.Option(help="Also build the CJK blocks the browser draws itself (slow)."),
    ] = False,
) -> None:
    """Build `/fonts/{fontstack}/{range}.pbf` files (the server serves them from <home>/glyphs)."""
    from geoplatform.tiles.glyphs import build_glyphs

    settings = settings_from_env()
    target = out_dir or settings.glyphs_dir or settings.resolved_home / "glyphs"
    count = build_glyphs(font, target, fontstack, include_local=include_local)
    out.print(f"wrote {count} glyphs of {fontstack!r} to {target}")
