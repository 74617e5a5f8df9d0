"""A built gazetteer kept on disk, keyed by the data versions of the layers it was built from,
so `geoplatform geocode "…"` answers in well under a second instead of rebuilding the index
(~10 s on a scale-1 city) on every call.

The key is the ETL's per-layer data versions (``meta.layer_versions``, bumped in the same
transaction that changes a layer) of every table the gazetteer reads, the row count of
`standard_addresses` (a guard against edits that bypass the ETL) and a hash of this package's
source (a new matcher never reads an old pickle). A miss builds from the database and writes
the pickle atomically (temporary file + rename), so two callers at once never read half a file;
older pickles are removed.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from geoplatform.geocode.gazetteer import Gazetteer
from geoplatform.geocode.matcher import Matcher

#: The layers (tables) whose rows the gazetteer holds.
GAZETTEER_LAYERS = (
    "admin_areas",
    "buildings",
    "standard_addresses",
    "roads",
    "compound_aliases",
    "landmarks",
)
_PREFIX = "gazetteer-"


@lru_cache(maxsize=1)
def _code_hash() -> str:
    """A hash of the geocode package's source: pickles of another matcher version don't load."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def gazetteer_key(connection: Connection) -> str:
    """The key of the gazetteer the database holds now (see the module docstring)."""
    # plain SQL: importing the table definitions would cost more than the whole look-up
    rows = connection.execute(
        sa.text("SELECT layer, version FROM meta.layer_versions WHERE layer = ANY(:layers)"),
        {"layers": list(GAZETTEER_LAYERS)},
    ).all()
    count = connection.execute(sa.text("SELECT count(*) FROM standard_addresses")).scalar_one()
    versions = sorted((str(layer), int(version)) for layer, version in rows)
    text = repr((versions, int(count), _code_hash()))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def cached_matcher(connection: Connection, home: Path, **options: Any) -> Matcher:
    """A matcher over the database's gazetteer, loaded from ``home``/geocoder when a pickle of
    the current key is there, else built (`Matcher.from_connection`) and saved."""
    folder = home / "geocoder"
    key = gazetteer_key(connection)
    path = folder / f"{_PREFIX}{key}.pickle"
    if path.exists():
        try:
            with path.open("rb") as handle:
                gazetteer = pickle.load(handle)
            if isinstance(gazetteer, Gazetteer):
                return Matcher(gazetteer, **options)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            pass  # a damaged or foreign file: rebuild below
    matcher = Matcher.from_connection(connection, **options)
    save(matcher.gazetteer, path)
    return matcher


def save(gazetteer: Gazetteer, path: Path) -> None:
    """Write ``gazetteer`` to ``path`` atomically and remove the folder's other pickles."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pickle")
    try:
        with os.fdopen(handle, "wb") as out:
            pickle.dump(gazetteer, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    for old in path.parent.glob(f"{_PREFIX}*.pickle"):
        if old != path:
            old.unlink(missing_ok=True)
