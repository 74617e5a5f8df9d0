"""What the matcher answers: the chosen place with its level and score, and the candidates."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Candidate:
    """One place the address may mean, with its confidence."""

    address: str
    level: str
    score: float
    standard_address_id: int | None = None
    address_key: str | None = None
    building_id: int | None = None
    building_key: str | None = None
    community_code: str | None = None
    lon: float | None = None
    lat: float | None = None


@dataclass(frozen=True, slots=True)
class GeocodeResult:
    """The answer for one address: the best candidate, its level and whether it is accepted.

    ``accepted`` is ``score >= acceptance threshold`` of the level; rows that are not accepted
    go to review with their ``candidates`` and, when the address names something that does not
    exist or is ambiguous, a ``reason``. ``contradiction`` notes a stated admin level that does
    not contain the answer (resolved because the rest of the address was specific enough).
    ``building_key``/``address_key`` are the source's identifiers (建筑编号, 地址编码);
    ``building_id``/``standard_address_id`` the database ids.
    """

    query: str
    level: str
    score: float
    accepted: bool
    standard_address_id: int | None = None
    address_key: str | None = None
    building_id: int | None = None
    building_key: str | None = None
    community_code: str | None = None
    lon: float | None = None
    lat: float | None = None
    candidates: list[Candidate] = field(default_factory=list)
    normalized: str = ""
    reason: str | None = None
    contradiction: str | None = None
