-- Warnings of one scan (%(as_of)s, or the latest when NULL), strongest evidence first.
-- The latest scan is the latest day scanned, even one that found nothing.
SELECT w.level, w.unit, w.as_of, w.window_start, w.window_end, w.baseline_start,
       w.baseline_end, w.observed, w.baseline, w.expected, w.ratio, w.p_value, w.q_value,
       w.dispersion, ST_AsGeoJSON(w.geom, 7) AS geometry
FROM warnings AS w
WHERE w.as_of = coalesce(%(as_of)s::date, (SELECT max(as_of) FROM warning_scans))
  AND (%(level)s::text IS NULL OR w.level = %(level)s::text)
ORDER BY w.p_value, w.observed DESC
LIMIT %(limit)s
