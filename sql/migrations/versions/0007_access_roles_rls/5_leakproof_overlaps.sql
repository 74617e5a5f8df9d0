-- Row-level security puts the policy before every qual that is not LEAKPROOF, and a qual that
-- must wait cannot drive an index scan: tiles and bbox queries on people and incidents fell back
-- to sequential scans. PostGIS's bounding-box overlap (&&, the GiST index operator) compares
-- two boxes and raises no error that carries a value, so it is marked LEAKPROOF here. Only a
-- superuser may do that; a migration run by another role leaves it and says so (the queries
-- stay correct, only slower). `ALTER EXTENSION postgis UPDATE` resets it: rerun this file.
DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        ALTER FUNCTION geometry_overlaps(geometry, geometry) LEAKPROOF;
    ELSE
        RAISE NOTICE 'not a superuser: && stays non-leakproof, spatial indexes unused under RLS';
    END IF;
END
$$;
