-- Databases migrated with data already loaded get their cubes now.
INSERT INTO meta.cube_dirty (layer, day)
SELECT DISTINCT 'incidents', (reported_at AT TIME ZONE 'Asia/Shanghai')::date
FROM public.incidents
ON CONFLICT DO NOTHING;

INSERT INTO meta.cube_dirty (layer, day)
SELECT layer, '-infinity'::date
FROM unnest(ARRAY['people', 'organisations', 'buildings', 'devices']) AS layer
ON CONFLICT DO NOTHING;

SELECT public.refresh_h3_cubes();
