-- The city's outline (the union of its grids) as WKB, for the hotspot study area.
SELECT ST_AsBinary(ST_Union(geom)) FROM grids
