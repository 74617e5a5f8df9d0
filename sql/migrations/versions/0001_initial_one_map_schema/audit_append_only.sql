-- The audit log is append-only: rows may be inserted, never changed or removed.
CREATE OR REPLACE FUNCTION meta.refuse_audit_change()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'meta.audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON meta.audit_log
    FOR EACH ROW EXECUTE FUNCTION meta.refuse_audit_change();

CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON meta.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION meta.refuse_audit_change();
