"""`geoplatform geocode "地址"`: match addresses against the standard addresses in the database."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from geoplatform.cli.common import out, settings_from_env


def geocode_command(
    addresses: Annotated[list[str], typer.Argument(help="One or more addresses to match.")],
    top: Annotated[int, typer.Option(min=1, max=20, help="Candidates to show.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per address.")] = False,
) -> None:
    """Match addresses: the answer's level, score and whether it is accepted, and the top
    candidates. Needs the standard addresses loaded (the ETL's standard-address source)."""
    from geoplatform.db.engine import create_engine, transaction
    from geoplatform.db.roles import ANALYST, url_for_role
    from geoplatform.geocode.index import cached_matcher

    settings = settings_from_env()
    engine = create_engine(settings, url=url_for_role(settings, ANALYST))  # reads only
    try:
        with transaction(engine) as conn:
            # the built index is kept under GEOPLATFORM_HOME, keyed by the layers' data versions
            matcher = cached_matcher(conn, settings.resolved_home, top_k=top)
    finally:
        engine.dispose()
    for result in matcher.match_many(addresses):
        if as_json:
            print(json.dumps(asdict(result), ensure_ascii=False))
            continue
        verdict = "[green]accepted[/green]" if result.accepted else "[yellow]review[/yellow]"
        out.print(f"[bold]{result.query}[/bold]")
        out.print(f"  normalised {result.normalized}")
        out.print(f"  {verdict}: level {result.level}, score {result.score:.3f}", highlight=False)
        if result.reason:
            out.print(f"  reason {result.reason}", highlight=False)
        if result.contradiction:
            out.print(f"  note {result.contradiction}", highlight=False)
        if result.candidates:
            best = result.candidates[0]
            building = result.building_id or result.building_key
            label = "match" if result.accepted else "best candidate"
            out.print(f"  {label} {best.address}" + (f" (building {building})" if building else ""))
        if result.lon is not None and result.lat is not None:
            out.print(f"  point {result.lon:.6f}, {result.lat:.6f}", highlight=False)
        table = Table("#", "level", "score", "standard address", "building", show_edge=False)
        table.columns[3].overflow = "fold"
        for rank, candidate in enumerate(result.candidates, start=1):
            table.add_row(
                str(rank),
                candidate.level,
                f"{candidate.score:.3f}",
                candidate.address,
                str(candidate.building_id or candidate.building_key or ""),
            )
        if result.candidates:
            out.print(table)
