-- Residents per grid (the denominator of per-10k rates).
SELECT grid_code AS grid, count(*) AS residents
FROM people
WHERE grid_code IS NOT NULL
GROUP BY grid_code
