-- Incidents per H3 cell (resolution %(res)s) and city-local day, from the cube.
SELECT cell AS unit, day, sum(n)::bigint AS count
FROM h3_incident_cube
WHERE res = %(res)s AND day BETWEEN %(d0)s AND %(d1)s
GROUP BY cell, day
