-- +goose Up
-- A UUIDv7 (RFC 9562: 48 bits of Unix milliseconds, version 7, random bits) for rows the database
-- creates in bulk, as the fan-out of an event to its webhook deliveries does. PostgreSQL 18 has uuidv7().
-- +goose StatementBegin
CREATE FUNCTION storefront_uuidv7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
        PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
        52, 1), 53, 1), 'hex')::uuid
$$;
-- +goose StatementEnd

-- The outbox: one row per change partners may react to, written in the transaction of the change.
-- data is the resource as the API served it at that moment; the janitor prunes rows past the retention.
CREATE TABLE events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id      uuid        NOT NULL UNIQUE,
    type           text        NOT NULL CHECK (length(type) BETWEEN 1 AND 64),
    resource_id    uuid        NOT NULL,
    data           jsonb       NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    changed_fields text[]      CHECK (cardinality(changed_fields) <= 50),
    request_id     text        CHECK (length(request_id) <= 128),
    traceparent    text        CHECK (length(traceparent) <= 128),
    created_at     timestamptz NOT NULL
);
-- The list sorts by time (tie-break on public_id); the type and resource filters lead their own indexes.
CREATE INDEX events_created_at_idx ON events (created_at, public_id);
CREATE INDEX events_type_created_at_idx ON events (type, created_at, public_id);
CREATE INDEX events_resource_created_at_idx ON events (resource_id, created_at, public_id);

-- Webhook endpoints. The signing secret is kept as raw key bytes (HMAC needs the key itself); during a
-- rotation the previous key keeps signing until previous_secret_expires_at. failing_since is the first
-- failed attempt since the last success: five days of that disables the endpoint.
CREATE TABLE webhook_endpoints (
    id                         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id                  uuid        NOT NULL UNIQUE,
    url                        text        NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    description                text        CHECK (length(description) <= 500),
    event_types                text[]      NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 50),
    enabled                    boolean     NOT NULL DEFAULT true,
    disabled_reason            text        CHECK (disabled_reason IN ('gone', 'failing')),
    secret                     bytea       NOT NULL,
    previous_secret            bytea,
    previous_secret_expires_at timestamptz,
    failing_since              timestamptz,
    version                    bigint      NOT NULL DEFAULT 1,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    deleted_at                 timestamptz
);
CREATE INDEX webhook_endpoints_created_at_idx ON webhook_endpoints (created_at, public_id) WHERE deleted_at IS NULL;
-- Fan-out looks up the enabled endpoints subscribed to an event's type.
CREATE INDEX webhook_endpoints_subscribed_idx ON webhook_endpoints USING gin (event_types)
    WHERE deleted_at IS NULL AND enabled;

-- One delivery per event and subscribed endpoint, created with the event. This row is the truth about it:
-- River jobs only wake the workers, and an attempt starts by claiming the row until claimed_until, so
-- however many jobs wake for one delivery (a manual retry adds one), one attempt runs at a time.
CREATE TABLE webhook_deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id        uuid        NOT NULL UNIQUE,
    -- No foreign keys: these rows are written by every fan-out, inside the transaction of the change,
    -- and a foreign key check per row (taking a key-share lock on the endpoint's row, which every order
    -- would then write) costs that change more than it protects: the fan-out reads both keys from their
    -- tables in the same statement, endpoints are only ever soft-deleted, and the janitor deletes an
    -- event's deliveries with the event (DeleteOldEvents in db/queries/events.sql).
    event_id         bigint      NOT NULL,
    endpoint_id      bigint      NOT NULL,
    status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz,
    last_attempt_at  timestamptz,
    last_status_code integer,
    last_duration_ms integer,
    last_error       text        CHECK (length(last_error) <= 500),
    claimed_until    timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, endpoint_id)
);
-- An endpoint's deliveries by time; the status filter reads the same index (each write of a delivery
-- row updates it, and a second index per status would cost every fan-out more than it saves lists).
CREATE INDEX webhook_deliveries_endpoint_created_at_idx ON webhook_deliveries (endpoint_id, created_at, public_id);

-- Every attempt of a delivery, as the receiver answered it.
CREATE TABLE webhook_attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id bigint      NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    number      integer     NOT NULL CHECK (number >= 1),
    outcome     text        NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'gone')),
    status_code integer,
    duration_ms integer     NOT NULL CHECK (duration_ms >= 0),
    error       text        CHECK (length(error) <= 500),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (delivery_id, number)
);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE events;
DROP FUNCTION storefront_uuidv7();
