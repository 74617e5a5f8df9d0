-- The grid_stats choropleth layer: units of one level (grids or admin areas) in a tile with the
-- statistics computed in process (arrays aligned on code). %(level)s: grid, community, street
-- or district.
WITH stats AS (
    SELECT *
    FROM unnest(%(codes)s::text[], %(incidents)s::bigint[], %(residents)s::bigint[],
                %(per_10k)s::float8[], %(closure_rate)s::float8[], %(on_time_rate)s::float8[],
                %(overdue_now)s::bigint[])
         AS s(code, incidents, residents, per_10k, closure_rate, on_time_rate, overdue_now)
),
units AS (
    SELECT code::text AS code, name, geom FROM grids WHERE %(level)s = 'grid'
    UNION ALL
    SELECT code::text, name, geom FROM admin_areas WHERE level = %(level)s
),
env AS (
    SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS box,
           ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 64.0 / 4096), 4326) AS q
)
SELECT ST_AsMVT(t, 'grid_stats', 4096, 'geom')
FROM (
    SELECT ST_AsMVTGeom(ST_Transform(u.geom, 3857), env.box, 4096, 64, true) AS geom,
           u.code, u.name, s.incidents, s.residents, s.per_10k, s.closure_rate,
           s.on_time_rate, s.overdue_now
    FROM units AS u
    JOIN stats AS s USING (code)
    CROSS JOIN env
    WHERE u.geom && env.q
) AS t
WHERE t.geom IS NOT NULL
