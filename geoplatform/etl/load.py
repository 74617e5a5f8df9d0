"""Load step: COPY a source's rows into staging, then upsert them in the same transaction.

One transaction per source (the caller owns it): staging tables are temporary and vanish with
it, so a run killed at any moment leaves each source either fully loaded or untouched. Rows are
keyed on (source, source_key); a row whose content hash did not change is not rewritten; keys
missing from a snapshot delivery are retired (deleted); of several rows with one key in one
delivery the last wins and the others are rejected as duplicates.

SQL is built from named fragments with quoted identifiers (psycopg.sql) and bound parameters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql
from sqlalchemy.engine import Connection

from geoplatform.etl.entities import Entity, stored_columns
from geoplatform.etl.geocode import Review
from geoplatform.etl.pipeline import SourceSpec
from geoplatform.etl.rejects import Reason, Rejects
from geoplatform.etl.values import pg_array
from geoplatform.schema import SRID

STAGING = "etl_staging"
SEEN = "etl_seen"
_COPY_CHUNK = 1 << 20


@dataclass
class LoadCounts:
    """What the upsert did."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    duplicates: int = 0
    unknown_reference: int = 0
    derived: int = 0  # admin areas derived from their children (a city without a polygon)
    retire_skipped: bool = False

    @property
    def loaded(self) -> int:
        return self.inserted + self.updated


def driver(conn: Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under a SQLAlchemy one (same session, same transaction)."""
    raw = conn.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    return raw


def _table(entity: Entity) -> sql.Composable:
    t = entity.table
    return sql.Identifier(t.schema, t.name) if t.schema else sql.Identifier(t.name)


def _ids(names: list[str]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def _copy_frame(pg: psycopg.Connection[Any], table: sql.Composable, frame: pd.DataFrame) -> None:
    """COPY a frame (already in text-ready form) as CSV: empty unquoted fields are NULL."""
    if frame.empty:
        return
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        table, _ids(list(frame.columns))
    )
    text = frame.to_csv(index=False, header=False, na_rep="")
    with pg.cursor() as cur, cur.copy(statement) as copy:
        for start in range(0, len(text), _COPY_CHUNK):
            copy.write(text[start : start + _COPY_CHUNK])


def _hex_bytes(values: pd.Series) -> pd.Series:
    out = ["\\x" + v.hex() if isinstance(v, bytes) else None for v in values.tolist()]
    return pd.Series(out, index=values.index, dtype=object)


def _timestamps(values: pd.Series) -> pd.Series:
    """UTC timestamps as PostgreSQL text, vectorised (pandas formats tz-aware ones per value)."""
    utc = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]")
    text = np.char.add(np.datetime_as_string(utc, unit="us"), "+00").astype(object)
    text[np.isnat(utc)] = None
    return pd.Series(text, index=values.index, dtype=object)


def _ewkb(geoms: np.ndarray[Any, np.dtype[np.object_]]) -> np.ndarray[Any, np.dtype[np.object_]]:
    out = np.full(len(geoms), None, dtype=object)
    present = ~shapely.is_missing(geoms)
    if present.any():
        with_srid = shapely.set_srid(geoms[present], SRID)
        out[present] = shapely.to_wkb(with_srid, hex=True, include_srid=True)
    return out


def staging_frame(frame: pd.DataFrame, entity: Entity) -> pd.DataFrame:
    """The frame as staging rows: stored columns, extras, geometry as EWKB hex, content hash."""
    cols = stored_columns(entity)
    list_fields = {f.name for f in entity.fields if f.kind == "list"}
    out = pd.DataFrame(index=frame.index)
    out["source_key"] = frame["source_key"]
    for c in cols:
        if c == "geom":
            lon = frame["_lon"].to_numpy(dtype=float)
            lat = frame["_lat"].to_numpy(dtype=float)
            if entity.geometry in ("polygon", "line"):
                out[c] = _ewkb(frame["_poly"].to_numpy(dtype=object))
            else:
                placed = np.isfinite(lon) & np.isfinite(lat)
                points = np.full(len(frame), None, dtype=object)
                points[placed] = shapely.points(lon[placed], lat[placed])
                out[c] = _ewkb(points)
        elif c == "footprint":
            out[c] = _ewkb(frame["_poly"].to_numpy(dtype=object))
        elif c == "normalized":
            out[c] = _normalised_addresses(frame["address"])
        elif c in frame and c in list_fields:
            out[c] = pg_array(frame[c])
        elif c in frame:
            out[c] = frame[c]
        else:
            out[c] = None
    for c in out.columns:
        if isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = _timestamps(out[c])
    for c, kind in entity.extra.items():
        values = frame[c] if c in frame else pd.Series([None] * len(frame), index=frame.index)
        out[c] = _hex_bytes(values) if kind == "bytea" else values
    # The content hash covers everything a row would write: same hash, nothing to rewrite.
    hashes = pd.util.hash_pandas_object(out, index=False).to_numpy(dtype=np.uint64)
    out["content_hash"] = ["\\x" + int(h).to_bytes(8, "big").hex() for h in hashes]
    out["_ord"] = frame["_ord"].to_numpy()
    out["_row"] = frame["_row"].to_numpy()
    out["_file"] = frame["_file"].to_numpy()
    return out


def _normalised_addresses(values: pd.Series) -> pd.Series:
    from geoplatform.geocode.normalise import normalise

    out = [normalise(v) if isinstance(v, str) else None for v in values.tolist()]
    return pd.Series(out, index=values.index, dtype=object)


class SourceLoader:
    """Staging and upsert for one source inside the caller's transaction."""

    def __init__(
        self,
        conn: Connection,
        source: SourceSpec,
        run_id: int,
        derivable: dict[str, str] | None = None,
    ) -> None:
        self.conn = conn
        self.derivable = derivable or {}
        self.pg = driver(conn)
        self.source = source
        self.entity = source.target
        self.run_id = run_id
        self.staged = 0

    def begin(self) -> None:
        """Create the temporary staging tables (typed like the target; dropped on commit)."""
        entity = self.entity
        cols = ["source_key", *stored_columns(entity), "content_hash"]
        with self.pg.cursor() as cur:
            cur.execute(
                sql.SQL("DROP TABLE IF EXISTS {}, {}").format(
                    sql.Identifier(STAGING), sql.Identifier(SEEN)
                )
            )
            cur.execute(
                sql.SQL(
                    "CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA"
                ).format(sql.Identifier(STAGING), _ids(cols), _table(entity))
            )
            extras = [(c, t) for c, t in entity.extra.items() if c not in cols]
            extras += [("_ord", "bigint"), ("_row", "integer"), ("_file", "text")]
            for column, kind in extras:
                cur.execute(
                    sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                        sql.Identifier(STAGING), sql.Identifier(column), sql.SQL(kind)
                    )
                )
            cur.execute(
                sql.SQL("CREATE TEMP TABLE {} (source_key text) ON COMMIT DROP").format(
                    sql.Identifier(SEEN)
                )
            )

    def stage(self, frame: pd.DataFrame) -> None:
        rows = staging_frame(frame, self.entity)
        _copy_frame(self.pg, sql.Identifier(STAGING), rows)
        self.staged += len(rows)

    def see(self, keys: list[str | None]) -> None:
        """Remember keys present in the delivery (rejected rows too: they are not missing)."""
        present = pd.DataFrame({"source_key": [k for k in keys if k is not None]})
        _copy_frame(self.pg, sql.Identifier(SEEN), present)

    def reject(self, rejects: Rejects) -> None:
        if not len(rejects):
            return
        frame = pd.DataFrame(
            {
                "run_id": self.run_id,
                "source": self.source.name,
                "row_number": rejects.rows,
                "source_key": rejects.keys,
                "reason_code": rejects.codes,
                "reason": rejects.reasons,
                "row_data": [json.dumps(d, ensure_ascii=False, default=str) for d in rejects.data],
            }
        )
        _copy_frame(self.pg, sql.Identifier("etl", "rejects"), frame)

    def review(self, review: Review) -> None:
        """Upsert review-queue rows (one per source key; reopened if seen again unresolved)."""
        if not len(review):
            return
        with self.pg.cursor() as cur:
            cur.executemany(
                "INSERT INTO restricted.geocode_review AS r"
                " (source, source_key, entity, run_id, address, level, score, candidates)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb)"
                " ON CONFLICT (source, source_key) DO UPDATE SET address = EXCLUDED.address,"
                " level = EXCLUDED.level, score = EXCLUDED.score,"
                " candidates = EXCLUDED.candidates, run_id = EXCLUDED.run_id,"
                " updated_at = now(), status = CASE WHEN r.address = EXCLUDED.address"
                " THEN r.status ELSE 'open' END",
                [
                    (self.source.name, k, self.entity.name, self.run_id, a, lv, sc, c)
                    for k, a, lv, sc, c in zip(
                        review.keys,
                        review.addresses,
                        review.levels,
                        review.scores,
                        review.candidates,
                        strict=True,
                    )
                ],
            )

    def _count(self, query: sql.Composed | sql.SQL, params: dict[str, Any]) -> int:
        with self.pg.cursor() as cur:
            cur.execute(query, params)
            return cur.rowcount if cur.description is None else int(cur.fetchone()[0])  # type: ignore[index]

    def finish(self, *, retire: bool) -> LoadCounts:
        """Deduplicate, check references, upsert, write identities, retire. Returns counts."""
        counts = LoadCounts()
        params = {"run": self.run_id, "source": self.source.name}
        stg = sql.Identifier(STAGING)
        with self.pg.cursor() as cur:
            cur.execute(sql.SQL("ANALYZE {}").format(stg))
        counts.duplicates = self._count(
            sql.SQL(
                "WITH ranked AS (SELECT ctid AS tid, row_number() OVER"
                " (PARTITION BY source_key ORDER BY _ord DESC) AS rn,"
                " first_value(_row) OVER (PARTITION BY source_key ORDER BY _ord DESC) AS winner"
                " FROM {stg}),"
                " gone AS (DELETE FROM {stg} s USING ranked r WHERE s.ctid = r.tid AND r.rn > 1"
                " RETURNING s._row, s.source_key, s._file, r.winner)"
                " INSERT INTO etl.rejects (run_id, source, row_number, source_key, reason_code,"
                " reason, row_data) SELECT %(run)s, %(source)s, _row, source_key, {code},"
                " 'key repeated in this delivery: row ' || winner || ' wins',"
                " jsonb_build_object('_file', _file) FROM gone"
            ).format(stg=stg, code=sql.Literal(Reason.DUPLICATE_KEY)),
            params,
        )
        if self.entity.name == "admin_areas" and self.derivable:
            counts.derived = self._derive_parents(params)
        counts.unknown_reference = self._check_references(params)
        inserted, updated = self._upsert(params)
        counts.inserted, counts.updated = inserted, updated
        staged_now = self._count(sql.SQL("SELECT count(*) FROM {}").format(stg), {})
        counts.unchanged = staged_now - inserted - updated
        if self.entity.name == "people":
            self._identities(params)
        self._resolve_reviews(params)
        if retire:
            seen = self._count(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(SEEN)), {})
            if seen == 0:
                counts.retire_skipped = True  # an empty delivery is a mistake, not a wipe-out
            else:
                counts.retired = self._count(
                    sql.SQL(
                        "DELETE FROM {t} t WHERE t.source = %(source)s AND NOT EXISTS"
                        " (SELECT 1 FROM {seen} s WHERE s.source_key = t.source_key)"
                    ).format(t=_table(self.entity), seen=sql.Identifier(SEEN)),
                    params,
                )
        return counts

    def _derive_parents(self, params: dict[str, Any]) -> int:
        """Admin areas the delivery names as parents but has no polygon for (a city whose
        districts came without it): those the pipeline declares (code and name) are derived
        as the union of their children, level by level up the chain."""
        stg = sql.Identifier(STAGING)
        total = 0
        codes = list(self.derivable)
        names = [self.derivable[c] for c in codes]
        for _ in range(4):  # community → street → district → city at most
            added = self._count(
                sql.SQL(
                    "INSERT INTO {stg} (source_key, code, edition, level, name, parent_code, geom,"
                    " content_hash, _ord, _row, _file)"
                    " SELECT d.code, d.code, max(s.edition), l.level, d.name, CASE l.level"
                    "  WHEN 'city' THEN NULL WHEN 'district' THEN substr(d.code, 1, 4) ||"
                    "  '00000000' WHEN 'street' THEN substr(d.code, 1, 6) || '000000'"
                    "  ELSE substr(d.code, 1, 9) || '000' END,"
                    " ST_Multi(ST_CollectionExtract(ST_Union(s.geom), 3)),"
                    " substring(decode(md5(ST_AsEWKB(ST_Union(s.geom))::text || d.name"
                    "  || max(s.edition)), 'hex') FROM 1 FOR 8), -1, 0, 'derived from children'"
                    " FROM unnest(%(codes)s::text[], %(names)s::text[]) AS d(code, name)"
                    " CROSS JOIN LATERAL (SELECT CASE WHEN substr(d.code, 5) = '00000000'"
                    "  THEN 'city' WHEN substr(d.code, 7) = '000000' THEN 'district'"
                    "  WHEN substr(d.code, 10) = '000' THEN 'street' ELSE 'community' END"
                    "  AS level) l"
                    " JOIN {stg} s ON s.parent_code = d.code"
                    " WHERE NOT EXISTS (SELECT 1 FROM {stg} x WHERE x.code = d.code)"
                    " AND NOT EXISTS (SELECT 1 FROM admin_areas a WHERE a.code = d.code"
                    "  AND a.source <> %(source)s)"
                    " GROUP BY d.code, d.name, l.level"
                ).format(stg=stg),
                {**params, "codes": codes, "names": names},
            )
            total += added
            if not added:
                break
        if total:
            with self.pg.cursor() as cur:
                cur.execute(
                    sql.SQL(
                        "INSERT INTO {seen} SELECT source_key FROM {stg} WHERE _ord = -1"
                    ).format(seen=sql.Identifier(SEEN), stg=stg)
                )
        return total

    def _check_references(self, params: dict[str, Any]) -> int:
        """Reject staged rows whose codes point at admin areas that do not exist."""
        checks: list[str] = {
            "grids": ["community_code"],
            "standard_addresses": ["district_code", "street_code", "community_code"],
            "door_plates": ["district_code", "street_code", "community_code"],
            "roads": ["district_code", "street_code"],
            "compound_aliases": ["district_code", "street_code", "community_code"],
            "admin_areas": ["parent_code"],
        }.get(self.entity.name, [])
        total = 0
        stg = sql.Identifier(STAGING)
        # an admin area whose parent was refused is refused too, level by level
        rounds = 5 if self.entity.name == "admin_areas" else 1
        for _ in range(rounds):
            removed = 0
            for column in checks:
                removed += self._reject_unknown(column, stg, params)
            total += removed
            if not removed:
                break
        return total

    def _reject_unknown(self, column: str, stg: sql.Identifier, params: dict[str, Any]) -> int:
        """Reject staged rows whose ``column`` names an admin area that is not loaded."""
        also_staged = (
            sql.SQL(" AND NOT EXISTS (SELECT 1 FROM {stg} x WHERE x.code = s.{c})").format(
                stg=stg, c=sql.Identifier(column)
            )
            if self.entity.name == "admin_areas"
            else sql.SQL("")
        )
        return self._count(
            sql.SQL(
                "WITH gone AS (DELETE FROM {stg} s WHERE s.{c} IS NOT NULL AND NOT EXISTS"
                " (SELECT 1 FROM admin_areas a WHERE a.code = s.{c}){also}"
                " RETURNING s._row, s.source_key, s._file, s.{c} AS code)"
                " INSERT INTO etl.rejects (run_id, source, row_number, source_key,"
                " reason_code, reason, row_data) SELECT %(run)s, %(source)s, _row,"
                " source_key, {reason_code}, {reason} || code, jsonb_build_object('_file',"
                " _file) FROM gone"
            ).format(
                stg=stg,
                c=sql.Identifier(column),
                also=also_staged,
                reason_code=sql.Literal(Reason.UNKNOWN_REFERENCE),
                reason=sql.Literal(f"{column} is not a loaded admin area: "),
            ),
            params,
        )

    def _upsert(self, params: dict[str, Any]) -> tuple[int, int]:
        entity = self.entity
        cols = ["source_key", *stored_columns(entity)]
        select: list[sql.Composable] = [sql.SQL("s.{}").format(sql.Identifier(c)) for c in cols]
        joins: sql.Composable = sql.SQL("")
        if entity.is_gazetteer:
            cols.append("building_id")
            select.append(sql.SQL("b.id"))
            restrict = sql.SQL(
                "WHERE source = %(building_source)s" if (self.source.building_source) else ""
            )
            params = {**params, "building_source": self.source.building_source}
            joins = sql.SQL(
                " LEFT JOIN (SELECT DISTINCT ON (source_key) source_key, id FROM buildings {r}"
                " ORDER BY source_key, id) b ON b.source_key = s.building_key"
            ).format(r=restrict)
        updates = sql.SQL(", ").join(
            sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c))
            for c in [*cols, "source_crs", "content_hash", "run_id", "loaded_at"]
            if c != "source_key"
        )
        query = sql.SQL(
            "WITH up AS (INSERT INTO {t} AS t (source, source_crs, content_hash, run_id,"
            " loaded_at, {cols}) SELECT %(source)s, %(crs)s, s.content_hash, %(run)s, now(),"
            " {select} FROM {stg} s{joins}"
            " ON CONFLICT (source, source_key) DO UPDATE SET {updates}"
            " WHERE t.content_hash IS DISTINCT FROM EXCLUDED.content_hash"
            " RETURNING (xmax = 0) AS inserted)"
            " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up"
        ).format(
            t=_table(entity),
            cols=_ids(cols),
            select=sql.SQL(", ").join(select),
            stg=sql.Identifier(STAGING),
            joins=joins,
            updates=updates,
        )
        with self.pg.cursor() as cur:
            cur.execute(query, {**params, "crs": self.source.crs})
            row = cur.fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def _identities(self, params: dict[str, Any]) -> None:
        """Identity of the people rewritten in this run goes to the restricted schema."""
        cols = [
            "id_number_hmac",
            "id_number_valid",
            "name",
            "phone",
            "address",
            "key_person_category",
        ]
        query = sql.SQL(
            "INSERT INTO restricted.person_identities (person_id, {cols})"
            " SELECT p.id, {sel} FROM {stg} s JOIN people p ON p.source = %(source)s"
            " AND p.source_key = s.source_key WHERE p.run_id = %(run)s"
            " ON CONFLICT (person_id) DO UPDATE SET {updates}"
        ).format(
            cols=_ids(cols),
            sel=sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in cols),
            stg=sql.Identifier(STAGING),
            updates=sql.SQL(", ").join(
                sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in cols
            ),
        )
        with self.pg.cursor() as cur:
            cur.execute(query, params)

    def _resolve_reviews(self, params: dict[str, Any]) -> None:
        """Rows now matched leave the review queue."""
        if not self.entity.geocodable:
            return
        with self.pg.cursor() as cur:
            cur.execute(
                sql.SQL(
                    "UPDATE restricted.geocode_review r"
                    " SET status = 'resolved', updated_at = now(), run_id = %(run)s"
                    " FROM {stg} s WHERE r.source = %(source)s"
                    " AND r.status = 'open' AND r.source_key = s.source_key"
                    " AND s.geocode_level IS NOT NULL AND s.geocode_level <> 'none'"
                ).format(stg=sql.Identifier(STAGING)),
                params,
            )
