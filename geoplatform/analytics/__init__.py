"""Hotspots, anomaly warnings, grid statistics, density rasters.

One job per module, each importable on its own (esda/libpysal load only with `hotspots`):

* `hexagons`: H3 counting, k-ring neighbourhoods, centroids, hexagon polygons.
* `hotspots`: Getis-Ord Gi* (esda) with FDR control → `HotspotResult`.
* `warnings`: early warning, recent window vs own baseline with weekly rhythm → `WarningScan`.
* `raster`: arrays of counts and kernel densities, web tiles, zoom → H3 resolution.
* `heatmap`: `Heatmap`, which renders itself as PNG and Cloud-Optimised GeoTIFF.
* `stats`: closure / on-time / overdue / per-10k figures and small-count suppression.
"""
