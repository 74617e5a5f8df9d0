-- Exposure for hotspots: every (layer, category) of h3_layer_cube at resolution 11; the server
-- spreads it over each cell's ring (analytics.hexagons.spread_to_parents) and sums to the
-- hotspot resolution.
SELECT layer || ':' || category AS name, cell, n
FROM h3_layer_cube
WHERE res = 11
