-- Bounds (lon/lat) of an admin area or grid by code.
SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (
    SELECT ST_Extent(geom)::geometry AS e FROM (
        SELECT geom FROM admin_areas WHERE code = %(code)s
        UNION ALL SELECT geom FROM grids WHERE code = %(code)s
    ) AS u
) AS b
WHERE e IS NOT NULL
