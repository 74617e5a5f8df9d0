-- Warnings of the latest scan (or %(as_of)s) for the CLI listing.
SELECT as_of, level, unit, window_start, window_end, observed, expected, ratio, p_value, q_value
FROM warnings
WHERE as_of = coalesce(%(as_of)s::date, (SELECT max(as_of) FROM warnings))
ORDER BY level, p_value
