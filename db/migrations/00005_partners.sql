-- +goose Up
-- API keys: partner credentials. Only a SHA-256 of the secret is stored (the secret has 256 random
-- bits, so a fast hash is right); prefix and last_four let people recognise a key without the secret.
-- scopes is what the key was granted at creation, a subset of its owner's scopes then; at use it is
-- narrowed again to the owner's current role. Revocation is soft (revoked_at).
CREATE TABLE api_keys (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id             uuid        NOT NULL UNIQUE,
    user_id               bigint      NOT NULL REFERENCES users (id),
    name                  text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    prefix                text        NOT NULL CHECK (prefix IN ('sk_live_', 'sk_test_')),
    last_four             text        NOT NULL CHECK (length(last_four) = 4),
    secret_hash           bytea       NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    scopes                text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(scopes) <= 20),
    rate_limit_per_minute integer     CHECK (rate_limit_per_minute BETWEEN 1 AND 1000000),
    expires_at            timestamptz,
    last_used_at          timestamptz,
    version               bigint      NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    revoked_at            timestamptz
);
-- Lists: a user's own keys, and every key for admins, newest first (tie-break on public_id).
CREATE INDEX api_keys_user_created_at_idx ON api_keys (user_id, created_at, public_id);
CREATE INDEX api_keys_created_at_idx ON api_keys (created_at, public_id);

-- The audit log: append-only. Each entry is written in the transaction of the change it records, so a
-- rolled-back change leaves none. Actors and resources are public ids, not foreign keys: entries
-- outlive what they name.
CREATE TABLE audit_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id     uuid        NOT NULL UNIQUE,
    occurred_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_id      uuid,
    api_key_id    uuid,
    action        text        NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    resource_type text        NOT NULL CHECK (resource_type ~ '^[a-z_]+$'),
    resource_id   uuid,
    request_id    text        CHECK (length(request_id) <= 128),
    client_ip     text        CHECK (length(client_ip) <= 64),
    changes       jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(changes) = 'object' AND pg_column_size(changes) <= 8192)
);
-- The list's sort, and each filter in front of it (tie-break on public_id).
CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at, public_id);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, occurred_at, public_id);
CREATE INDEX audit_events_resource_idx ON audit_events (resource_type, resource_id, occurred_at, public_id);
CREATE INDEX audit_events_action_idx ON audit_events (action, occurred_at, public_id);

-- How long entries are kept. The service writes AUDIT_RETENTION_DAYS here before pruning; the guard
-- below reads it, so the service's own statements can delete expired entries and nothing else.
CREATE TABLE audit_policy (
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    retention_days integer NOT NULL CHECK (retention_days BETWEEN 1 AND 36500)
);
INSERT INTO audit_policy (retention_days) VALUES (400);

-- The guard: entries cannot be changed, nor deleted (or truncated) before they expire, by any statement
-- the service's role runs. It stops bugs and injected SQL from rewriting history; a role that may drop
-- triggers could still remove it, so production deployments run migrations with a separate owner role.
-- +goose StatementBegin
CREATE FUNCTION audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit_events are append-only: UPDATE is not allowed' USING ERRCODE = 'insufficient_privilege';
    ELSIF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'audit_events are append-only: TRUNCATE is not allowed' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.occurred_at >= now() - make_interval(days => (SELECT retention_days FROM audit_policy)) THEN
        RAISE EXCEPTION 'audit event % has not expired: only entries older than the retention may be deleted', OLD.public_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_guard();
CREATE TRIGGER audit_events_delete_expired_only BEFORE DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_guard();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_guard();

-- +goose Down
DROP TABLE audit_events;
DROP FUNCTION audit_events_guard();
DROP TABLE audit_policy;
DROP TABLE api_keys;
