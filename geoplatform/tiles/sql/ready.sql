-- Readiness: the database answers and the one-map schema is there.
SELECT to_regclass('meta.layer_versions') IS NOT NULL AS ready
