"""A person's answer to a review entry becomes an alias the next run uses.

The review queue holds addresses the matcher could not accept, with their top candidates. When
an operator picks the right place (`geoplatform etl review resolve ID CANDIDATE`), the compound
name the address used is learned as an alias of that place's compound (compound_aliases,
origin `learned`), so the next run places this row and every other row that writes the
compound the same way. The decision is kept in the audit log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from geoplatform.db.engine import transaction
from geoplatform.errors import NotFound

LEARNED_SOURCE = "review"


@dataclass(frozen=True)
class Resolution:
    """What resolving a review entry did."""

    review_id: int
    address: str
    place: str  # the standard address chosen
    alias: str | None  # the compound name learned, None when the address named none
    compound: str | None


def _chosen_place(conn: Connection, candidates: list[Any], candidate: str) -> dict[str, Any]:
    """The standard address a person chose: a 1-based candidate number, an address key
    (地址编码) or the standard address text."""
    if candidate.isdigit() and 1 <= int(candidate) <= len(candidates):
        where, value = "address = :v", str(candidates[int(candidate) - 1][0])
    elif candidate.isdigit() and len(candidate) <= 2:
        raise NotFound(f"review entry has no candidate {candidate} (1-{len(candidates)})")
    else:
        where, value = "(source_key = :v OR address = :v)", candidate
    row = (
        conn.execute(
            text(
                "SELECT id, address, compound, community_code, street_code, district_code"
                f" FROM standard_addresses WHERE {where} ORDER BY id LIMIT 1"
            ),
            {"v": value},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no standard address {value!r}")
    return dict(row)


def resolve_review(
    engine: Engine, review_id: int, candidate: str, home: Path, *, actor: str = "etl"
) -> Resolution:
    """Resolve review entry ``review_id`` with ``candidate`` and learn its compound alias.
    The address is parsed by the matcher kept under ``home`` (built once per gazetteer)."""
    from geoplatform.geocode.index import cached_matcher

    with transaction(engine) as conn:
        entry = conn.execute(
            text("SELECT address, candidates FROM restricted.geocode_review WHERE id = :id"),
            {"id": review_id},
        ).first()
        if entry is None:
            raise NotFound(f"no review entry {review_id}")
        address, candidates = str(entry[0]), list(entry[1] or [])
        place = _chosen_place(conn, candidates, candidate)
        written = cached_matcher(conn, home).parse(address).compound
        official = place["compound"]
        alias = written if written and official and written != official else None
        if alias is not None:
            conn.execute(
                text(
                    "INSERT INTO compound_aliases (alias, compound, community_code, street_code,"
                    " district_code, origin, source, source_key) VALUES (:a, :c, :cc, :sc, :dc,"
                    " 'learned', :src, :key) ON CONFLICT (source, source_key) DO UPDATE SET"
                    " alias = EXCLUDED.alias, compound = EXCLUDED.compound,"
                    " community_code = EXCLUDED.community_code, street_code ="
                    " EXCLUDED.street_code, district_code = EXCLUDED.district_code,"
                    " loaded_at = now()"
                ),
                {
                    "a": alias,
                    "c": official,
                    "cc": place["community_code"],
                    "sc": place["street_code"],
                    "dc": place["district_code"],
                    "src": LEARNED_SOURCE,
                    "key": f"{alias}|{official}|{place['community_code'] or ''}",
                },
            )
            conn.execute(
                text(
                    "INSERT INTO meta.layer_versions (layer, version) VALUES"
                    " ('compound_aliases', 1) ON CONFLICT (layer) DO UPDATE"
                    " SET version = meta.layer_versions.version + 1"
                )
            )
        conn.execute(
            text(
                "UPDATE restricted.geocode_review SET status = 'resolved', updated_at = now()"
                " WHERE id = :id"
            ),
            {"id": review_id},
        )
        conn.execute(
            text(
                "INSERT INTO meta.audit_log (actor, action, target, details)"
                " VALUES (:actor, 'review.resolve', :target, CAST(:d AS jsonb))"
            ),
            {
                "actor": actor,
                "target": f"geocode_review/{review_id}",
                "d": json.dumps(
                    {"standard_address_id": place["id"], "alias": alias, "compound": official},
                    ensure_ascii=False,
                ),
            },
        )
    return Resolution(review_id, address, str(place["address"]), alias, official)
