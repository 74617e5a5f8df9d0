-- stats_rows.sql as fixed-width codes (binary COPY into the StatsIndex): the grid as its
-- position in the grid list bound as a parameter (a hash join: array_position over 640 codes
-- a row took 5 s) (-1: a grid the grids table lacks), category
-- and channel as positions in their sorted lists, never NULL (NaN / Infinity / false).
SELECT (coalesce(g.pos, 0) - 1)::int4 AS grid,
       coalesce(extract(epoch FROM reported_at)::float8, 'NaN') AS t,
       (coalesce(array_position(%(categories)s::text[], coalesce(category::text, '')), 0) - 1)::int2
         AS category,
       (coalesce(array_position(%(channels)s::text[], coalesce(channel::text, '')), 0) - 1)::int2
         AS channel,
       coalesce(status = 'rejected', false) AS rejected,
       coalesce(status = 'closed', false) AS closed,
       coalesce(status = 'closed' AND due_at IS NOT NULL, false) AS closed_with_due,
       coalesce(status = 'closed' AND due_at IS NOT NULL AND closed_at <= due_at, false)
         AS closed_on_time,
       coalesce(CASE WHEN status NOT IN ('closed', 'rejected') THEN extract(epoch FROM due_at)::float8
                END, 'Infinity') AS open_due
FROM incidents
LEFT JOIN unnest(%(grids)s::text[]) WITH ORDINALITY AS g(code, pos) ON g.code = grid_code::text
WHERE grid_code IS NOT NULL
