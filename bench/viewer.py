"""Lighthouse-style figures for the one-map viewer in Debian's Chromium (SwiftShader WebGL).

For each of `--runs` fresh browser contexts (empty browser cache; the server's tile cache is warm
after the first): time from navigation to the first rendered tile, and to a settled map (style,
every visible tile loaded and drawn, the viewer's first pass done) at z12 over the city centre;
then the tile requests (and bytes) one pan of half the map's width fetches.

    .venv/bin/python bench/viewer.py --base http://127.0.0.1:8000   # e.g. `make demo`'s server
    .venv/bin/python bench/viewer.py --url postgresql://...         # a loaded database: serves it

Timing is what SwiftShader on this machine does (software WebGL on shared cores), not a GPU's.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    "--disable-background-networking", "--disable-component-update",
]  # fmt: skip
TILE_PATHS = ("/tiles/", "/heatmap/", "/stats/incidents/")
# marks the first frame drawn after a tile arrived, and the first idle after the viewer's pass
HOOK = """
(() => {
  let map = null;
  window.__bench = { firstTile: null, settled: null };
  Object.defineProperty(window, "onemap", {
    configurable: true,
    get() { return map; },
    set(m) {
      map = m;
      let tileArrived = false;
      m.on("sourcedata", (e) => { if (e.tile && e.sourceId === "onemap") tileArrived = true; });
      m.on("render", () => {
        const b = window.__bench;
        if (tileArrived && b.firstTile === null) b.firstTile = performance.now();
      });
      m.on("idle", () => {
        if (window.onemapApplied && window.__bench.settled === null && m.areTilesLoaded())
          window.__bench.settled = performance.now();
      });
    },
  });
})();
"""


@contextmanager
def serve(url: str, home: Path) -> Iterator[str]:
    import socket

    import uvicorn

    from geoplatform.settings import Settings
    from geoplatform.tiles.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    settings = Settings(database_url=url, home=home, layers_file=Path("tiles/layers.yaml"))
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def one_run(browser: Any, base: str, view: str) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    page = context.new_page()
    page.add_init_script(HOOK)
    tiles: list[tuple[str, int]] = []

    def on_response(r: Any) -> None:
        if any(p in r.url for p in TILE_PATHS):
            tiles.append((r.url, int(r.request.sizes()["responseBodySize"])))

    page.on("response", on_response)
    page.goto(f"{base}/viewer/#map={view}")
    page.wait_for_function("window.__bench.settled !== null", timeout=300_000)
    marks = page.evaluate("window.__bench")
    before = len(tiles)
    page.evaluate("window.onemap.panBy([700, 0], {duration: 0})")
    page.wait_for_timeout(200)
    page.wait_for_function(
        "window.onemap.loaded() && window.onemap.areTilesLoaded()", timeout=300_000
    )
    pan = tiles[before:]
    context.close()
    return {
        "first_tile_ms": marks["firstTile"],
        "settled_ms": marks["settled"],
        "tiles_at_load": before,
        "pan_tiles": len(pan),
        "pan_kb": sum(size for _, size in pan) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", help="a running server")
    parser.add_argument("--url", help="a loaded database to serve")
    parser.add_argument("--view", default="12/39.66/106.80", help="zoom/lat/lon of the centre")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    def measure(base: str) -> None:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            runs = [one_run(browser, base, args.view) for _ in range(args.runs)]
            browser.close()
        print(
            "| run | first rendered tile (ms) | settled map (ms) | tiles at load "
            "| tiles for one pan | pan KB |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        for i, r in enumerate(runs, 1):
            print(
                f"| {i} | {r['first_tile_ms']:.0f} | {r['settled_ms']:.0f} | {r['tiles_at_load']} "
                f"| {r['pan_tiles']} | {r['pan_kb']:.0f} |"
            )
        warm = runs[1:] or runs
        print(
            f"| median of warm runs | {statistics.median(r['first_tile_ms'] for r in warm):.0f} "
            f"| {statistics.median(r['settled_ms'] for r in warm):.0f} | | "
            f"{statistics.median(r['pan_tiles'] for r in warm):.0f} | |"
        )

    if args.base:
        measure(args.base.rstrip("/"))
    elif args.url:
        import tempfile

        with (
            tempfile.TemporaryDirectory(prefix="bench-viewer-") as tmp,
            serve(args.url, Path(tmp)) as base,
        ):
            measure(base)
    else:
        parser.error("give --base or --url")


if __name__ == "__main__":
    main()
