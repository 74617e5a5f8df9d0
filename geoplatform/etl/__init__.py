"""The ETL: extract → normalise → geocode → assign → load → publish, one transaction per source.

    from geoplatform.etl import load_pipeline, run_pipeline, RunOptions
    result = run_pipeline(engine, load_pipeline("etl/pipelines/nightly.yaml"), settings)
    result.status, result.exit_code, result.source("hotline").counts

Modules by step: `pipeline` (the YAML model), `extract`, `normalise`, `geocode`, `assign`,
`load`, `publish`, `runner` (lock, watermarks, run log), `report` (status, rejects, review).
"""

from geoplatform.etl.pipeline import Pipeline, load_pipeline, parse_pipeline
from geoplatform.etl.runner import RunOptions, RunResult, SourceResult, run_pipeline

__all__ = [
    "Pipeline",
    "RunOptions",
    "RunResult",
    "SourceResult",
    "load_pipeline",
    "parse_pipeline",
    "run_pipeline",
]
