-- The audit trail is a hash chain: row n stores sha256(hash of row n-1 || its own content), and
-- seq numbers have no gaps. Editing, deleting, reordering or truncating rows breaks a link that
-- `geoplatform audit verify` finds; `audit anchor` prints the head to keep outside the database.
ALTER TABLE meta.audit_log
    ADD COLUMN seq bigint,
    ADD COLUMN role text,
    ADD COLUMN scope text,
    ADD COLUMN endpoint text,
    ADD COLUMN params jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN row_count integer,
    ADD COLUMN id_hmacs text[] NOT NULL DEFAULT '{}'::text[],
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash bytea;

-- What a row's hash covers: every column but id (an identity that rollbacks skip) and the hash.
CREATE FUNCTION meta.audit_digest(r meta.audit_log) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT sha256(coalesce(r.prev_hash, '\x'::bytea) || convert_to(jsonb_build_array(
        r.seq, (extract(epoch FROM r.at) * 1000000)::bigint, r.actor, r.action, r.target,
        r.details, r.role, r.scope, r.endpoint, r.params, r.row_count, to_jsonb(r.id_hmacs)
    )::text, 'UTF8'))
$$;

-- Where the chain starts after pruning: the last pruned row's seq and hash.
CREATE TABLE meta.audit_checkpoints (
    seq bigint CONSTRAINT pk_audit_checkpoints PRIMARY KEY,
    hash bytea NOT NULL,
    pruned_at timestamptz NOT NULL DEFAULT now(),
    pruned_rows bigint NOT NULL
);
COMMENT ON TABLE meta.audit_checkpoints IS
    'Chain start after pruning: the last pruned audit row; verify resumes there';

CREATE FUNCTION meta.audit_chain() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    last_seq bigint;
    last_hash bytea;
BEGIN
    -- One appender at a time: the link to the previous row must be the row before it.
    PERFORM pg_advisory_xact_lock(7163124510);
    SELECT seq, hash INTO last_seq, last_hash FROM meta.audit_log ORDER BY seq DESC LIMIT 1;
    IF last_seq IS NULL THEN
        SELECT seq, hash INTO last_seq, last_hash
        FROM meta.audit_checkpoints ORDER BY seq DESC LIMIT 1;
    END IF;
    NEW.seq := coalesce(last_seq, 0) + 1;
    NEW.prev_hash := last_hash;
    NEW.at := coalesce(NEW.at, now());
    NEW.hash := meta.audit_digest(NEW);
    RETURN NEW;
END
$$;

-- Rows written before the chain existed join it in id order.
DO $$
DECLARE
    r meta.audit_log;
    prev bytea;
    n bigint := 0;
BEGIN
    ALTER TABLE meta.audit_log DISABLE TRIGGER audit_log_append_only;
    FOR r IN SELECT * FROM meta.audit_log ORDER BY id LOOP
        n := n + 1;
        r.seq := n;
        r.prev_hash := prev;
        r.hash := meta.audit_digest(r);
        UPDATE meta.audit_log SET seq = r.seq, prev_hash = r.prev_hash, hash = r.hash
            WHERE id = r.id;
        prev := r.hash;
    END LOOP;
    ALTER TABLE meta.audit_log ENABLE TRIGGER audit_log_append_only;
END
$$;

ALTER TABLE meta.audit_log ALTER COLUMN seq SET NOT NULL;
ALTER TABLE meta.audit_log ALTER COLUMN hash SET NOT NULL;
ALTER TABLE meta.audit_log ADD CONSTRAINT uq_audit_log_seq UNIQUE (seq);

CREATE TRIGGER audit_log_chain
    BEFORE INSERT ON meta.audit_log
    FOR EACH ROW EXECUTE FUNCTION meta.audit_chain();

-- Updates and truncation are always refused; deletes only from the chain's start by
-- meta.audit_prune (which sets geoplatform.audit_pruning for its own transaction).
CREATE OR REPLACE FUNCTION meta.refuse_audit_change()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('geoplatform.audit_pruning', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_checkpoints_append_only
    BEFORE UPDATE OR DELETE ON meta.audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION meta.refuse_audit_change();
CREATE TRIGGER audit_checkpoints_no_truncate
    BEFORE TRUNCATE ON meta.audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION meta.refuse_audit_change();

-- Retention: drop rows older than `keep`, oldest first, leaving a checkpoint so what remains
-- still verifies. Owner only.
CREATE FUNCTION meta.audit_prune(keep interval) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    cut_seq bigint;
    cut_hash bytea;
    n bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(7163124510);
    SELECT max(seq) INTO cut_seq FROM meta.audit_log WHERE at < now() - keep;
    IF cut_seq IS NULL THEN
        RETURN 0;
    END IF;
    SELECT hash INTO cut_hash FROM meta.audit_log WHERE seq = cut_seq;
    PERFORM set_config('geoplatform.audit_pruning', 'on', true);
    DELETE FROM meta.audit_log WHERE seq <= cut_seq;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('geoplatform.audit_pruning', 'off', true);
    INSERT INTO meta.audit_checkpoints (seq, hash, pruned_rows) VALUES (cut_seq, cut_hash, n);
    RETURN n;
END
$$;

REVOKE ALL ON meta.audit_log, meta.audit_checkpoints FROM PUBLIC, api, etl, analyst;
REVOKE ALL ON FUNCTION meta.audit_prune(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION meta.audit_chain() FROM PUBLIC;
-- The chain trigger reads the head as the owner: a role that may append (etl logs its runs
-- and review decisions) still cannot read the trail.
ALTER FUNCTION meta.audit_chain() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
GRANT INSERT ON meta.audit_log TO etl;

-- The only way the server writes the trail: one row per person-level answer.
CREATE FUNCTION access.audit_append(
    actor text, role text, scope text, endpoint text, params jsonb, row_count integer,
    id_hmacs text[]
) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO meta.audit_log (actor, action, role, scope, endpoint, params, row_count, id_hmacs)
    VALUES (actor, 'read_people', role, scope, endpoint, params, row_count, id_hmacs)
    RETURNING seq
$$;
REVOKE ALL ON FUNCTION access.audit_append(text, text, text, text, jsonb, integer, text[])
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION access.audit_append(text, text, text, text, jsonb, integer, text[])
    TO api;
