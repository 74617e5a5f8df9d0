"""The JSON Schema of pipeline files, generated from the pydantic models that validate them.

Editors validate a pipeline while it is written (`# yaml-language-server: $schema=...`); the
ETL validates it again, with the rules a schema cannot say (a field must belong to its entity,
a watermark must be a time field), and names the line of each mistake.
"""

from __future__ import annotations

from typing import Any

from geoplatform.etl.entities import ENTITIES
from geoplatform.etl.pipeline import PipelineSpec

SCHEMA_ID = "https://geoplatform.invalid/schemas/pipeline.json"


def pipeline_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a pipeline file, entity names and fields included."""
    schema = PipelineSpec.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "geoplatform ETL pipeline"
    source = schema["$defs"]["SourceSpec"]["properties"]
    source["entity"] = {
        "type": "string",
        "enum": sorted(ENTITIES),
        "description": "Target entity: "
        + "; ".join(f"{e.name} ({', '.join(e.field_names)})" for e in ENTITIES.values()),
    }
    fields = sorted({f for e in ENTITIES.values() for f in e.field_names})
    for key in ("columns", "constants", "values"):
        source[key]["propertyNames"] = {"enum": fields}
    return schema
