-- Hexagons (EPSG:3857 WKB, computed from H3 in Python) with their counts as one MVT layer.
SELECT ST_AsMVT(q, %(layer)s, 4096, 'geom')
FROM (
    SELECT ST_AsMVTGeom(ST_GeomFromWKB(g.wkb, 3857),
                        ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 3857), 4096, 64, true) AS geom,
           g.cell, g.count, %(res)s::int AS res
    FROM unnest(%(wkb)s::bytea[], %(cells)s::text[], %(counts)s::bigint[]) AS g(wkb, cell, count)
) AS q
WHERE q.geom IS NOT NULL
