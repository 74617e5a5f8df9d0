-- refresh_h3_cubes(): recompute what the triggers marked, and nothing else. The ETL's publish
-- step calls it inside the load's transaction, so readers never see rows without their counts.
-- Incidents: every marked day, all resolutions 5-11 (h3_parent of the stored res-11 cell).
-- Snapshot layers: the whole layer (a few hundred thousand rows at most).
-- Returns the number of cube rows written.
CREATE OR REPLACE FUNCTION public.refresh_h3_cubes()
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    dirty_days date[];
    dirty_layers text[];
    written bigint := 0;
    step bigint;
BEGIN
    -- Two sessions never recompute the same days at once.
    PERFORM pg_advisory_xact_lock(hashtext('geoplatform.refresh_h3_cubes'));

    WITH taken AS (
        DELETE FROM meta.cube_dirty WHERE layer = 'incidents' RETURNING day
    )
    SELECT array_agg(day) INTO dirty_days FROM taken;

    IF dirty_days IS NOT NULL THEN
        DELETE FROM public.h3_incident_cube WHERE day = ANY (dirty_days);
        INSERT INTO public.h3_incident_cube (res, cell, day, category, channel, n)
        SELECT r.res, public.h3_parent(i.h3_r11, r.res), d.day, i.category, i.channel, count(*)
        FROM unnest(dirty_days) AS d (day)
        JOIN public.incidents AS i
            ON i.reported_at >= (d.day::timestamp AT TIME ZONE 'Asia/Shanghai')
           AND i.reported_at < ((d.day + 1)::timestamp AT TIME ZONE 'Asia/Shanghai')
        CROSS JOIN generate_series(5, 11) AS r (res)
        WHERE i.h3_r11 IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5;
        GET DIAGNOSTICS step = ROW_COUNT;
        written := written + step;
    END IF;

    WITH taken AS (
        DELETE FROM meta.cube_dirty WHERE layer <> 'incidents' RETURNING layer
    )
    SELECT array_agg(DISTINCT layer) INTO dirty_layers FROM taken;

    IF dirty_layers IS NOT NULL THEN
        DELETE FROM public.h3_layer_cube WHERE layer = ANY (dirty_layers);
        INSERT INTO public.h3_layer_cube (layer, res, cell, category, n)
        SELECT s.layer, r.res, public.h3_parent(s.cell, r.res), s.category, count(*)
        FROM (
            SELECT 'people' AS layer, h3_r11 AS cell, coalesce(residence_type, '') AS category
            FROM public.people WHERE 'people' = ANY (dirty_layers)
            UNION ALL
            SELECT 'organisations', h3_r11, coalesce(kind, '')
            FROM public.organisations WHERE 'organisations' = ANY (dirty_layers)
            UNION ALL
            SELECT 'buildings', h3_r11, coalesce(use_type, '')
            FROM public.buildings WHERE 'buildings' = ANY (dirty_layers)
            UNION ALL
            SELECT 'devices', h3_r11, kind
            FROM public.devices WHERE 'devices' = ANY (dirty_layers)
        ) AS s
        CROSS JOIN generate_series(5, 11) AS r (res)
        WHERE s.cell IS NOT NULL
        GROUP BY 1, 2, 3, 4;
        GET DIAGNOSTICS step = ROW_COUNT;
        written := written + step;
    END IF;
    RETURN written;
END
$$;

COMMENT ON FUNCTION public.refresh_h3_cubes() IS
    'Recompute the H3 cubes for the incident days and snapshot layers marked in meta.cube_dirty.';
