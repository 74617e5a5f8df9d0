"""`geoplatform serve`: the tile and feature API under uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from geoplatform.cli.common import out, settings_from_env

serve_app = typer.Typer(help="Serve the one-map API (tiles, features, viewer).")

FACTORY = "geoplatform.tiles.app:app_from_env"


@serve_app.callback(invoke_without_command=True)
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default: settings.host).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: settings.port).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Serve http://HOST:PORT: tiles, OGC API Features/Tiles, styles and the viewer."""
    import uvicorn

    from geoplatform.db.engine import database_url

    settings = settings_from_env()
    database_url(settings)  # fail here, with the clear message, if there is no database
    bind_host = host or settings.host
    bind_port = port or settings.port
    out.print(f"serving http://{bind_host}:{bind_port}/ ({workers} worker(s))")
    if workers == 1:
        from geoplatform.tiles.app import create_app

        uvicorn.run(create_app(settings), host=bind_host, port=bind_port, log_level=log_level)
        return
    # several processes: each builds its app from the same environment through the factory
    os.environ.setdefault("GEOPLATFORM_LAYERS_FILE", str(settings.layers_file.resolve()))
    uvicorn.run(
        FACTORY, factory=True, host=bind_host, port=bind_port, workers=workers, log_level=log_level
    )
