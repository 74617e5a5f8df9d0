-- The request's role and scope, set per transaction by the server (SET LOCAL geoplatform.role,
-- geoplatform.scope, geoplatform.pii). Unset or empty means nothing: every policy denies.
--   geoplatform.role   public | analyst | officer | admin | service (in-memory aggregates,
--                      published only through k-anonymous suppression)
--   geoplatform.scope  comma list of grid-code prefixes (a grid's 15 digits, a community's 12,
--                      a street's 9, a district's 6, a city's 4), for officers
--   geoplatform.pii    'on' when the caller may see identities
CREATE FUNCTION access.request_role() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('geoplatform.role', true), '') $$;

CREATE FUNCTION access.request_scope() RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT coalesce(
        array_remove(string_to_array(current_setting('geoplatform.scope', true), ','), ''),
        '{}'::text[])
$$;

-- Officers: any of the scope's prefixes starts the record's grid code.
CREATE FUNCTION access.grid_in_scope(grid_code text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT grid_code IS NOT NULL AND EXISTS (
        SELECT 1 FROM unnest(access.request_scope()) AS prefix
        WHERE prefix ~ '^[0-9]{4,15}$' AND left(grid_code, length(prefix)) = prefix)
$$;

CREATE FUNCTION access.may_see_person(grid_code text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE access.request_role()
        WHEN 'admin' THEN true
        WHEN 'service' THEN true
        WHEN 'officer' THEN access.grid_in_scope(grid_code)
        ELSE false END
$$;

CREATE FUNCTION access.may_see_incident(grid_code text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE access.request_role()
        WHEN 'admin' THEN true
        WHEN 'service' THEN true
        WHEN 'analyst' THEN true
        WHEN 'officer' THEN access.grid_in_scope(grid_code)
        ELSE false END
$$;

-- The scope as LIKE patterns (digits only, so nothing to escape).
CREATE FUNCTION access.scope_patterns() RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT coalesce(array_agg(prefix || '%'), '{}'::text[])
    FROM unnest(access.request_scope()) AS prefix
    WHERE prefix ~ '^[0-9]{4,15}$'
$$;

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA access TO api, analyst, etl;

ALTER TABLE public.people ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.people FORCE ROW LEVEL SECURITY;
ALTER TABLE public.incidents ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.incidents FORCE ROW LEVEL SECURITY;
ALTER TABLE restricted.person_identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE restricted.person_identities FORCE ROW LEVEL SECURITY;
ALTER TABLE restricted.geocode_review ENABLE ROW LEVEL SECURITY;
ALTER TABLE restricted.geocode_review FORCE ROW LEVEL SECURITY;

CREATE POLICY etl_loads ON public.people TO etl USING (true) WITH CHECK (true);
CREATE POLICY etl_loads ON public.incidents TO etl USING (true) WITH CHECK (true);
CREATE POLICY etl_loads ON restricted.person_identities TO etl USING (true) WITH CHECK (true);
CREATE POLICY etl_loads ON restricted.geocode_review TO etl USING (true) WITH CHECK (true);

-- The settings are read once per query, not once per row: `(SELECT f())` is an InitPlan
-- (a tile of thousands of rows then pays one comparison per row, not a function call).
CREATE POLICY api_reads ON public.people FOR SELECT TO api
    USING ((SELECT access.request_role()) IN ('admin', 'service')
           OR ((SELECT access.request_role()) = 'officer'
               AND grid_code::text LIKE ANY ((SELECT access.scope_patterns())::text[])));
CREATE POLICY api_reads ON public.incidents FOR SELECT TO api
    USING ((SELECT access.request_role()) IN ('admin', 'service', 'analyst')
           OR ((SELECT access.request_role()) = 'officer'
               AND grid_code::text LIKE ANY ((SELECT access.scope_patterns())::text[])));
CREATE POLICY analyst_reads ON public.incidents FOR SELECT TO analyst USING (true);
-- No policy gives api or analyst rows of people's identities or the review queue: only the
-- functions below read them, as the owner, after checking the request's scope.
