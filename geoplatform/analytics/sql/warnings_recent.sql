-- Warnings of the latest scan (or %(as_of)s) for the CLI listing.
-- The latest scan is the latest day scanned, even one that found nothing.
SELECT as_of, level, unit, window_start, window_end, observed, expected, ratio, p_value, q_value
FROM warnings
WHERE as_of = coalesce(%(as_of)s::date, (SELECT max(as_of) FROM warning_scans))
ORDER BY level, p_value
