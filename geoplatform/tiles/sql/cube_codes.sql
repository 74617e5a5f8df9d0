-- The incident cube's finest rows as fixed-width codes (binary COPY into the CubeIndex):
-- category and channel are positions (0-based) in the sorted lists bound as parameters.
SELECT cell::int8,
       (day - DATE '1970-01-01')::int4 AS day,
       (array_position(%(categories)s::text[], category) - 1)::int2 AS category,
       (array_position(%(channels)s::text[], channel) - 1)::int2 AS channel,
       n::int8
FROM h3_incident_cube
WHERE res = 11
