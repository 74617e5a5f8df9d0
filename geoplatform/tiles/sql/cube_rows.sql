-- The incident cube's finest rows, for the in-process CubeIndex (heatmaps).
SELECT cell, (day - DATE '1970-01-01')::int AS day, category, channel, n
FROM h3_incident_cube
WHERE res = 11
