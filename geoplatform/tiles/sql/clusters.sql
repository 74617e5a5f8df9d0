-- H3 clusters of one layer in one tile, computed in process (overview.py) and encoded here so
-- every tile comes out of the same MVT encoder. Positions come already in tile coordinates
-- (0..extent, y down, what ST_AsMVTGeom would give): cluster means lie inside the tile, so there
-- is nothing to clip. Arrays travel as text literals: parsing them in PostgreSQL is ~5x cheaper
-- than adapting Python lists element by element.
SELECT ST_AsMVT(t, %(layer)s, %(extent)s, 'geom')
FROM (
    SELECT ST_Point(u.px, u.py) AS geom,
           u.n AS count,
           to_hex(u.c) AS h3
    FROM unnest(%(px)s::int4[], %(py)s::int4[], %(ns)s::int8[], %(cs)s::int8[])
         AS u(px, py, n, c)
) AS t
