-- Triggers record what the next refresh_h3_cubes() must recompute, in the same transaction as
-- the change: the city-local days of inserted, updated or deleted incidents, and whole snapshot
-- layers (people, organisations, buildings, devices) when any of their rows changed.
-- Statement-level with transition tables: one cheap statement per load, not one per row.

CREATE OR REPLACE FUNCTION meta.mark_cube_dirty()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_TABLE_NAME = 'incidents' THEN
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO meta.cube_dirty (layer, day)
            SELECT DISTINCT 'incidents', (reported_at AT TIME ZONE 'Asia/Shanghai')::date
            FROM new_rows
            ON CONFLICT DO NOTHING;
        END IF;
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            INSERT INTO meta.cube_dirty (layer, day)
            SELECT DISTINCT 'incidents', (reported_at AT TIME ZONE 'Asia/Shanghai')::date
            FROM old_rows
            ON CONFLICT DO NOTHING;
        END IF;
    ELSIF TG_OP IN ('INSERT', 'UPDATE') THEN
        -- one statement each: plpgsql plans a whole expression, and an INSERT trigger has no
        -- old_rows to plan against
        IF EXISTS (SELECT 1 FROM new_rows) THEN
            INSERT INTO meta.cube_dirty (layer, day)
            VALUES (TG_TABLE_NAME, '-infinity')
            ON CONFLICT DO NOTHING;
        END IF;
    ELSIF EXISTS (SELECT 1 FROM old_rows) THEN
        INSERT INTO meta.cube_dirty (layer, day)
        VALUES (TG_TABLE_NAME, '-infinity')
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

DO $$
DECLARE
    layer text;
BEGIN
    FOREACH layer IN ARRAY ARRAY['incidents', 'people', 'organisations', 'buildings', 'devices']
    LOOP
        EXECUTE format(
            'CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows'
            ' FOR EACH STATEMENT EXECUTE FUNCTION meta.mark_cube_dirty()',
            layer || '_cube_insert', layer);
        EXECUTE format(
            'CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows'
            ' NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION meta.mark_cube_dirty()',
            layer || '_cube_update', layer);
        EXECUTE format(
            'CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows'
            ' FOR EACH STATEMENT EXECUTE FUNCTION meta.mark_cube_dirty()',
            layer || '_cube_delete', layer);
    END LOOP;
END
$$;
