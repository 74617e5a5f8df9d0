"""geoplatform: the city governance one-map data platform and tile server."""

__version__ = "0.1.0"
