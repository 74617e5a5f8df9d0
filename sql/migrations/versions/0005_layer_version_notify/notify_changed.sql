-- Tile servers remember layer versions (see geoplatform/db/fence.py). The ETL commits inside
-- the version fence; any other statement that changes a version still tells the servers, when
-- it commits, through this notification (NOTIFY is delivered at commit, never before).
CREATE OR REPLACE FUNCTION meta.notify_layer_versions_changed()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('geoplatform_layer_versions', 'changed');
    RETURN NULL;
END
$$;

CREATE TRIGGER layer_versions_notify_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON meta.layer_versions
    FOR EACH STATEMENT EXECUTE FUNCTION meta.notify_layer_versions_changed();
