-- Record that a day was scanned at a level, also when nothing warned.
INSERT INTO warning_scans (as_of, level, tested, warned)
VALUES (%(as_of)s, %(level)s, %(tested)s, %(warned)s)
ON CONFLICT (as_of, level) DO UPDATE
SET tested = excluded.tested, warned = excluded.warned, scanned_at = now()
