-- A rescan of a day replaces that day's warnings at that level.
DELETE FROM warnings WHERE as_of = %(as_of)s AND level = %(level)s
