"""The one-map viewer in Debian's Chromium (Playwright): the map loads, tiles are requested and
rendered, the click panel answers, and the console stays clean. Leaves a screenshot to look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tiles_fixtures import ROOT, live_server, seed_city, tile_settings

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    seed_city(database_url)
    with live_server(tile_settings(database_url, tmp_path)) as base:
        yield base


@pytest.mark.browser
@pytest.mark.slow
def test_viewer_loads_and_renders_tiles(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert (ROOT / "tiles/viewer/node_modules/maplibre-gl/dist/maplibre-gl.js").is_file(), (
        "run: npm install --prefix tiles/viewer"
    )
    errors: list[str] = []
    tiles: list[int] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("response", lambda r: tiles.append(r.status) if ".mvt" in r.url else None)
        page.goto(f"{server}/viewer/#14/39.66/106.80")
        page.wait_for_function(
            "window.onemap && window.onemap.loaded() && window.onemap.areTilesLoaded()",
            timeout=60_000,
        )
        rendered = page.evaluate("window.onemap.queryRenderedFeatures().map(f => f.sourceLayer)")
        assert {"incidents", "grids"} <= set(rendered)
        page.mouse.click(450, 400)
        page.wait_for_function("document.querySelector('#info table') !== null", timeout=20_000)
        assert "150302001001" in page.inner_text("#info")
        # a time window re-requests tiles with datetime=
        page.fill("#from", "2024-03-01")
        page.fill("#to", "2024-03-31")
        page.click("#apply")
        page.wait_for_function("window.onemap.areTilesLoaded()", timeout=30_000)
        shot = tmp_path / "viewer.png"
        page.screenshot(path=str(shot))
        (ROOT / "bench" / "out").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ROOT / "bench" / "out" / "viewer.png"))
        browser.close()
    assert tiles
    assert all(s in (200, 204) for s in tiles)
    assert errors == []
