"""How the browser tests start Debian's Chromium: headless, WebGL through SwiftShader, and no
background traffic (the machine has no network but the package registries)."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    "--disable-background-networking", "--disable-component-update",
]  # fmt: skip
