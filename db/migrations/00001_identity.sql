-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Users. The bigint key stays inside the database; the API only ever sees public_id (UUIDv7).
-- version is bumped on every write and is the ETag; deleted_at marks a soft delete.
CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id     uuid        NOT NULL UNIQUE,
    email         text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    password_hash text        NOT NULL,
    role          text        NOT NULL DEFAULT 'customer' CHECK (role IN ('customer', 'editor', 'admin')),
    status        text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    version       bigint      NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz
);

-- Email is unique regardless of case among live users; a deleted user's email is free again.
CREATE UNIQUE INDEX users_email_live_key ON users (lower(email)) WHERE deleted_at IS NULL;
-- One index per list sort (tie-break on public_id), plus the equality filters in front of the default sort.
CREATE INDEX users_created_at_idx ON users (created_at, public_id) WHERE deleted_at IS NULL;
CREATE INDEX users_email_sort_idx ON users (lower(email), public_id) WHERE deleted_at IS NULL;
CREATE INDEX users_name_idx ON users (name, public_id) WHERE deleted_at IS NULL;
CREATE INDEX users_role_created_at_idx ON users (role, created_at, public_id) WHERE deleted_at IS NULL;
CREATE INDEX users_status_created_at_idx ON users (status, created_at, public_id) WHERE deleted_at IS NULL;
-- q: case-insensitive substring search on email or name (trigram indexes, combined by a BitmapOr).
CREATE INDEX users_email_trgm_idx ON users USING gin (lower(email) gin_trgm_ops) WHERE deleted_at IS NULL;
CREATE INDEX users_name_trgm_idx ON users USING gin (lower(name) gin_trgm_ops) WHERE deleted_at IS NULL;

-- Refresh tokens: only a SHA-256 of the secret is stored. A family is the chain of rotations that
-- started at one login; presenting a used token revokes the whole family.
CREATE TABLE refresh_tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id),
    family_id  uuid        NOT NULL,
    token_hash bytea       NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz,
    revoked_at timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);

-- Failed sign-ins, for the 5-per-15-minutes throttle per email and client address.
CREATE TABLE login_failures (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email     text        NOT NULL,
    client_ip text        NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key_idx ON login_failures (email, client_ip, failed_at);
CREATE INDEX login_failures_failed_at_idx ON login_failures (failed_at);

-- +goose Down
DROP TABLE login_failures;
DROP TABLE refresh_tokens;
DROP TABLE users;
