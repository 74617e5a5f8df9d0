-- Incidents per grid and city-local day.
SELECT grid_code AS unit, (reported_at AT TIME ZONE %(zone)s)::date AS day, count(*) AS count
FROM incidents
WHERE grid_code IS NOT NULL
  AND reported_at >= (%(d0)s::date)::timestamp AT TIME ZONE %(zone)s
  AND reported_at < (%(d1)s::date + 1)::timestamp AT TIME ZONE %(zone)s
GROUP BY 1, 2
