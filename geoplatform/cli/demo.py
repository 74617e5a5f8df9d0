"""`geoplatform demo ...`: the synthetic demo city."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from geoplatform.cli.common import out

demo_app = typer.Typer(help="The synthetic demo city.", no_args_is_help=True)


@demo_app.command("generate")
def demo_generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the city's files.")] = Path(
        ".geoplatform/demo"
    ),
    scale: Annotated[
        float, typer.Option(min=0.001, max=100, help="1 = a Wuhai-sized city (560k residents).")
    ] = 0.05,
    seed: Annotated[int, typer.Option(help="Same seed, same city.")] = 1,
    preset: Annotated[
        str, typer.Option(help="City preset: wuhai (default) or jiaxing (浙江省嘉兴市).")
    ] = "wuhai",
    pipeline: Annotated[
        Path | None,
        typer.Option(help="Also write the committed pipeline here, its root pointing at --out."),
    ] = None,
    hotspots: Annotated[
        bool, typer.Option("--hotspots/--no-hotspots", help="Plant the known hotspots.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Write a city's source files as departments deliver them, its pipeline and ground truth."""
    from geoplatform.demo import generate_city
    from geoplatform.demo.presets import PRESETS

    if preset not in PRESETS:
        raise typer.BadParameter(
            f"unknown preset {preset!r}: one of {', '.join(sorted(PRESETS))}", param_hint="--preset"
        )

    with Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=out,
        transient=True,
        disable=as_json or not out.is_terminal,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        result = generate_city(
            out_dir,
            scale=scale,
            seed=seed,
            preset=preset,
            pipeline_path=pipeline,
            progress=report,
            planted_hotspots=hotspots,
        )
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    table = Table(
        title=f"demo city {preset} (scale {scale}, seed {seed}) in {result.seconds:.1f} s"
    )
    table.add_column("entity")
    table.add_column("rows", justify="right")
    for entity, count in result.counts.items():
        table.add_row(entity, f"{count:,}")
    out.print(table)
    out.print(f"pipeline: {out_dir / 'pipeline.yaml'}" + (f" and {pipeline}" if pipeline else ""))
