-- Who is responsible for a point: the grid containing it and the admin chain above it.
-- The grid decides the community (its code prefix); the chain is read from admin_areas.
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS geom),
grid AS (
    SELECT g.code, g.name, g.kind, g.special_type, g.community_code
    FROM grids AS g, p
    WHERE ST_Intersects(g.geom, p.geom)
    ORDER BY g.code
    LIMIT 1
),
areas AS (
    SELECT a.code, a.name, a.level, a.edition
    FROM admin_areas AS a, p
    WHERE ST_Intersects(a.geom, p.geom)
)
SELECT
    (SELECT row_to_json(grid) FROM grid) AS grid,
    (SELECT coalesce(json_agg(row_to_json(areas) ORDER BY
        array_position(ARRAY['city', 'district', 'street', 'community'], areas.level)), '[]')
     FROM areas) AS admin
