-- One row per located incident for the in-process statistics index (/stats): the grid, the
-- report time, the filters, and the workflow flags of analytics.stats.LEAF_COLUMNS.
-- open_due: the deadline of an incident still open (not closed, not rejected), else NULL.
SELECT grid_code,
       extract(epoch FROM reported_at)::float8 AS t,
       category,
       channel,
       status = 'rejected' AS rejected,
       status = 'closed' AS closed,
       status = 'closed' AND due_at IS NOT NULL AS closed_with_due,
       status = 'closed' AND due_at IS NOT NULL AND closed_at <= due_at AS closed_on_time,
       CASE WHEN status NOT IN ('closed', 'rejected') THEN extract(epoch FROM due_at)::float8
       END AS open_due
FROM incidents
WHERE grid_code IS NOT NULL
