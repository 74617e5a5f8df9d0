"""Hotspots, anomaly warnings, grid statistics, density rasters."""
