-- One warning with its evidence; a cell's hexagon is given as WKB, a grid's is its polygon.
INSERT INTO warnings (as_of, level, unit, window_start, window_end, baseline_start, baseline_end,
                      observed, baseline, expected, ratio, p_value, q_value, dispersion, geom)
VALUES (%(as_of)s, %(level)s, %(unit)s, %(window_start)s, %(window_end)s, %(baseline_start)s,
        %(baseline_end)s, %(observed)s, %(baseline)s, %(expected)s, %(ratio)s, %(p_value)s,
        %(q_value)s, %(dispersion)s,
        coalesce(ST_Multi(ST_GeomFromWKB(%(wkb)s::bytea, 4326)),
                 (SELECT ST_Multi(geom) FROM grids WHERE code = %(unit)s)))
