-- Who may touch what. The owner (the login that runs migrations) owns every object; the three
-- login roles own nothing. `restricted` is reachable only by etl and through the SECURITY
-- DEFINER functions of schema `access`.
CREATE SCHEMA IF NOT EXISTS access;
REVOKE ALL ON SCHEMA restricted FROM PUBLIC;
REVOKE ALL ON SCHEMA access FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

GRANT USAGE ON SCHEMA public, meta, access TO api, analyst, etl;
GRANT USAGE ON SCHEMA etl, restricted TO etl;

-- api: reads the map; people and incidents only through row-level security below.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO api;
GRANT SELECT ON meta.layer_versions TO api;

-- etl: writes everything it loads, never the audit trail or the keys.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public, etl, restricted TO etl;
GRANT SELECT, INSERT, UPDATE, DELETE ON meta.layer_versions, meta.cube_dirty TO etl;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public, etl, restricted, meta TO etl;

-- analyst: every public table, no residents' rows, incidents without the complainant's address
-- or the delivered free text.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO analyst;
REVOKE SELECT ON public.incidents FROM analyst;
GRANT SELECT (id, channel, category, subcategory, demand_type, urgency, status, reported_at,
              accepted_at, dispatched_at, handled_at, closed_at, due_at, geocode_level,
              geocode_score, source, source_key, source_crs, loaded_at, run_id, geom,
              grid_code, h3_r11)
    ON public.incidents TO analyst;
GRANT SELECT ON meta.layer_versions TO analyst;

-- Tables later migrations create in these schemas get the same grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO api, analyst;
ALTER DEFAULT PRIVILEGES IN SCHEMA public, etl, restricted
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO etl;
ALTER DEFAULT PRIVILEGES IN SCHEMA public, etl, restricted, meta
    GRANT USAGE, SELECT ON SEQUENCES TO etl;
