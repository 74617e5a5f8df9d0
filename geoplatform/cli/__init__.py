"""The `geoplatform` command: one module per command group; each parses, calls the library and
shows progress. Nothing else lives here.
"""

from __future__ import annotations

import sys

import typer

from geoplatform.cli.access import audit_app, keys_app
from geoplatform.cli.common import err
from geoplatform.cli.db import db_app
from geoplatform.cli.demo import demo_app
from geoplatform.cli.etl import etl_app
from geoplatform.cli.fonts import fonts_app
from geoplatform.cli.geocode import geocode_command
from geoplatform.cli.serve import serve_app
from geoplatform.cli.warnings import warnings_app
from geoplatform.errors import GeoPlatformError

app = typer.Typer(
    help="geoplatform: the city's one-map data platform and tile server.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(etl_app, name="etl")
app.add_typer(keys_app, name="keys")
app.add_typer(fonts_app, name="fonts")
app.add_typer(serve_app, name="serve")
app.add_typer(warnings_app, name="warnings")
app.command("geocode")(geocode_command)


def main() -> None:
    """Console entry point: domain errors become one line on stderr and their exit code."""
    try:
        app()
    except GeoPlatformError as exc:
        err.print(f"[red]error:[/red] {exc.message}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
