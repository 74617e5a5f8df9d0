"""With no network, /docs (Swagger UI) and /redoc render in Debian's Chromium and every asset they
load comes from the server itself: any request elsewhere is refused and fails the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import ARGS, CHROMIUM
from tests.conftest import DatabaseFactory
from tests.standards_fixtures import LiveCity, live_city
from tests.tiles_fixtures import ROOT


@pytest.fixture(scope="module")
def live(
    database_factory: DatabaseFactory, template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveCity]:
    with live_city(database_factory, tmp_path_factory.mktemp("docs")) as city:
        yield city


@pytest.mark.browser
@pytest.mark.slow
def test_docs_render_offline_from_local_assets(live: LiveCity, tmp_path: Path) -> None:
    from playwright.sync_api import Route, sync_playwright

    assert (ROOT / "tiles/viewer/node_modules/swagger-ui-dist/swagger-ui-bundle.js").is_file(), (
        "run: npm ci --prefix tiles/viewer"
    )
    elsewhere: list[str] = []
    local: list[str] = []
    errors: list[str] = []

    def only_the_server(route: Route) -> None:
        url = route.request.url
        if url.startswith(live.base) or url.startswith("data:") or url.startswith("blob:"):
            local.append(url)
            route.continue_()
        else:  # the machine has no internet to give: refuse, and remember who asked
            elsewhere.append(url)
            route.abort("internetdisconnected")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(offline=False)
        context.route("**/*", only_the_server)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        page.goto(f"{live.base}/docs")
        page.wait_for_selector(".swagger-ui .opblock-summary-path", timeout=60_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert any("/collections/{collection_id}/items" in p.replace("\u200b", "") for p in paths)
        assert "3.0" in page.inner_text(".swagger-ui .info")
        page.screenshot(path=str(tmp_path / "docs.png"))

        page.goto(f"{live.base}/redoc")
        page.wait_for_selector("h1", timeout=60_000)
        page.wait_for_function("document.body.innerText.includes('/collections')", timeout=60_000)
        browser.close()
    assert elsewhere == []
    assert any("/docs/assets/swagger-ui-bundle.js" in u for u in local)
    assert any("/docs/assets/redoc.standalone.js" in u for u in local)
    assert any(u.startswith(f"{live.base}/api") for u in local)
    # the server's Content-Security-Policy stops ReDoc's one off-server image in the browser
    refused = [e for e in errors if "cdn.redoc.ly" in e and "Content Security Policy" in e]
    assert [e for e in errors if e not in refused] == []
