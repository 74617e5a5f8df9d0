"""Geocode step: rows with an address and no point are matched against the standard addresses.

The matcher itself lives in `geoplatform.geocode`; this step only feeds it whole batches of
addresses and writes its verdicts back: an accepted match gives the row its point, building and
level; anything below the threshold goes to the review queue with its top candidates (and is
rejected when the source requires a location).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from geoplatform.errors import ConfigurationError
from geoplatform.etl.normalise import Batch
from geoplatform.etl.pipeline import SourceSpec
from geoplatform.etl.rejects import Reason, Rejects
from geoplatform.geocode.result import GeocodeResult

if TYPE_CHECKING:
    from geoplatform.geocode import Matcher


class MatcherCache:
    """One matcher per run, rebuilt when the standard-address table changed during the run."""

    def __init__(self, min_score: float | None = None, candidates: int = 5) -> None:
        self._matcher: Matcher | None = None
        self.min_score = min_score
        self.candidates = candidates

    def invalidate(self) -> None:
        self._matcher = None

    def get(self, conn: Connection) -> Matcher:
        if self._matcher is None:
            try:
                from geoplatform.geocode import Matcher
            except ImportError as exc:
                raise ConfigurationError(
                    f"the address matcher (geoplatform.geocode.Matcher) is not available: {exc}"
                ) from exc
            self._matcher = Matcher.from_connection(conn)
        return self._matcher


@dataclass
class Review:
    """Rows for the review queue (restricted.geocode_review) from one batch."""

    keys: list[str]
    addresses: list[str]
    levels: list[str | None]
    scores: list[float | None]
    candidates: list[str]  # JSON arrays of [address, score]

    def __len__(self) -> int:
        return len(self.keys)


def _candidate(candidate: Any) -> list[Any]:
    """[address, score] of a candidate (a Candidate object or an (address, score) pair)."""
    if hasattr(candidate, "address"):
        return [str(candidate.address), round(float(candidate.score), 4)]
    address, score = candidate[0], candidate[1]
    return [str(address), round(float(score), 4)]


def frame_rejects(
    frame: pd.DataFrame, mask: np.ndarray[Any, np.dtype[np.bool_]], code: str, reason: str
) -> Rejects:
    """Rejects for rows of a normalised frame (the delivered row is gone: key, file, address)."""
    out = Rejects()
    picked = frame.loc[mask, ["_row", "source_key", "_file", "_address"]]
    for row, key, file, address in picked.itertuples(index=False):
        out.rows.append(int(row))
        out.keys.append(key)
        out.codes.append(code)
        out.reasons.append(reason)
        out.data.append({"_file": file, "address": address})
    return out


#: How far (metres) a member's coarse answer may lie from the household's building.
HOUSEHOLD_REACH_M = 500.0


def _accepted(result: GeocodeResult, min_score: float | None) -> bool:
    return result.accepted and (min_score is None or result.score >= min_score)


def lift_households(
    results: list[GeocodeResult], households: list[Any], min_score: float | None = None
) -> tuple[list[GeocodeResult], int]:
    """Members of one household live in one dwelling: when the members whose addresses reach a
    building all name the same one, the members whose own text reaches only its compound or
    gate (or was not accepted, but had that building among its candidates) are placed on it.
    A household whose members name different buildings is left as it is. Returns the results
    and how many were lifted."""
    members: dict[str, list[int]] = {}
    for i, key in enumerate(households):
        if isinstance(key, str) and key:
            members.setdefault(key, []).append(i)
    out = list(results)
    lifted = 0
    for rows in members.values():
        if len(rows) < 2:
            continue
        anchors = [
            results[i]
            for i in rows
            if results[i].level == "building"
            and results[i].building_id is not None
            and _accepted(results[i], min_score)
        ]
        buildings = {a.building_id for a in anchors}
        if len(buildings) != 1:
            continue
        anchor = max(anchors, key=lambda r: r.score)
        for i in rows:
            result = results[i]
            if result.level == "building" and _accepted(result, min_score):
                continue
            if _accepted(result, min_score):
                ok = result.level in ("compound", "door") and _near(result, anchor)
            elif result.reason is not None:
                ok = False  # refused for a reason (a building that does not exist): keep it
            else:
                ok = any(c.building_id == anchor.building_id for c in result.candidates)
            if ok:
                out[i] = replace(
                    anchor,
                    query=result.query,
                    normalized=result.normalized,
                    candidates=result.candidates,
                    score=min(anchor.score, max(result.score, 0.5)),
                    accepted=True,
                )
                lifted += 1
    return out, lifted


def _near(result: GeocodeResult, anchor: GeocodeResult) -> bool:
    """Same community and within `HOUSEHOLD_REACH_M` of the household's building."""
    if result.community_code != anchor.community_code:
        return False
    if result.lon is None or result.lat is None or anchor.lon is None or anchor.lat is None:
        return False
    dy = (result.lat - anchor.lat) * 111_320.0
    dx = (result.lon - anchor.lon) * 111_320.0 * math.cos(math.radians(anchor.lat))
    return math.hypot(dx, dy) <= HOUSEHOLD_REACH_M


def geocode_batch(
    batch: Batch, source: SourceSpec, conn: Connection, matchers: MatcherCache
) -> tuple[Batch, Review, dict[str, int]]:
    """Match the batch's unplaced rows; return the batch (placed rows filled in), the review
    rows and the count of rows per matched level."""
    frame = batch.frame
    entity = source.target
    need = (
        np.isnan(frame["_lon"].to_numpy(dtype=float)) & frame["_address"].notna().to_numpy()
        if entity.geocodable
        else np.zeros(len(frame), dtype=bool)
    )
    for column in ("building_id", "geocode_level", "geocode_score"):
        if column in entity.table.c and column not in frame:
            frame[column] = None
    empty = Review([], [], [], [], [])
    if not need.any():
        return batch, empty, {}
    idx = np.flatnonzero(need)
    addresses = frame["_address"].to_numpy()[idx].tolist()
    results = matchers.get(conn).match_many(addresses)
    if "household_key" in frame:
        households = frame["household_key"].to_numpy(dtype=object)[idx].tolist()
        results, lifted = lift_households(results, households, matchers.min_score)
        if lifted:
            batch.counts["household_lifted"] = batch.counts.get("household_lifted", 0) + lifted
    accepted = np.array(
        [
            r.accepted and (matchers.min_score is None or r.score >= matchers.min_score)
            for r in results
        ],
        dtype=bool,
    )
    lon = frame["_lon"].to_numpy(dtype=float).copy()
    lat = frame["_lat"].to_numpy(dtype=float).copy()
    levels = frame["geocode_level"].to_numpy(dtype=object).copy()
    has_score = "geocode_score" in frame
    scores = frame["geocode_score"].to_numpy(dtype=object).copy() if has_score else None
    building = (
        frame["building_id"].to_numpy(dtype=object).copy() if "building_id" in frame else None
    )
    counts: dict[str, int] = {}
    review = Review([], [], [], [], [])
    for i, result, ok in zip(idx, results, accepted, strict=True):
        level = result.level if ok else "none"
        counts[level] = counts.get(level, 0) + 1
        levels[i] = level
        if scores is not None:
            scores[i] = float(result.score)
        if ok and result.lon is not None and result.lat is not None:
            lon[i], lat[i] = float(result.lon), float(result.lat)
            if building is not None:
                building[i] = result.building_id
        else:
            review.keys.append(str(frame["source_key"].iat[int(i)]))
            review.addresses.append(str(frame["_address"].iat[int(i)]))
            review.levels.append(None if result.level == "none" else result.level)
            review.scores.append(float(result.score))
            top = [_candidate(c) for c in result.candidates[: matchers.candidates]]
            review.candidates.append(json.dumps(top, ensure_ascii=False))
    frame["_lon"], frame["_lat"] = lon, lat
    frame["geocode_level"] = levels
    if scores is not None:
        frame["geocode_score"] = scores
    if building is not None:
        frame["building_id"] = building
    unplaced = need & np.isnan(lon)
    if source.locates and unplaced.any():
        batch.rejects.extend(
            frame_rejects(
                frame,
                unplaced,
                Reason.GEOCODE_UNMATCHED,
                "address did not match the standard addresses well enough (see etl review)",
            )
        )
        frame = frame[~unplaced].reset_index(drop=True)
    batch.frame = frame
    return batch, review, counts
