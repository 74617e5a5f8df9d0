"""Address geocoding against the city's standard-address table (标准地址库).

`normalise` puts a messy Chinese address in normal form, `parse` splits it into components,
`Matcher` finds the standard address it names, with a level and a confidence score::

    from geoplatform.geocode import Matcher
    matcher = Matcher.from_connection(conn)          # or Matcher.from_frame(df, crs="EPSG:4545")
    result = matcher.match("海勃湾区银城华府3-2-401")
    result.level, result.score, result.accepted, result.building_id, result.candidates
"""

from geoplatform.geocode.gazetteer import Gazetteer
from geoplatform.geocode.matcher import LEVELS, Matcher
from geoplatform.geocode.normalise import normalise
from geoplatform.geocode.parse import ParsedAddress, parse
from geoplatform.geocode.result import Candidate, GeocodeResult

__all__ = [
    "LEVELS",
    "Candidate",
    "Gazetteer",
    "GeocodeResult",
    "Matcher",
    "ParsedAddress",
    "normalise",
    "parse",
]
