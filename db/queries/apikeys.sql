-- name: CreateAPIKey :one
INSERT INTO api_keys (public_id, user_id, name, prefix, last_four, secret_hash, scopes, expires_at)
SELECT sqlc.arg(public_id), u.id, sqlc.arg(name), sqlc.arg(prefix), sqlc.arg(last_four), sqlc.arg(secret_hash),
       sqlc.arg(scopes)::text[], sqlc.narg(expires_at)
FROM users u WHERE u.public_id = sqlc.arg(owner_public_id) AND u.deleted_at IS NULL
RETURNING id;

-- name: GetAPIKey :one
SELECT k.public_id, u.public_id AS owner_public_id, k.name, k.prefix, k.last_four, k.secret_hash, k.scopes,
       k.rate_limit_per_minute, k.expires_at, k.last_used_at, k.version, k.created_at, k.updated_at, k.revoked_at
FROM api_keys k JOIN users u ON u.id = k.user_id
WHERE k.public_id = $1;

-- name: LockAPIKey :one
SELECT k.public_id, u.public_id AS owner_public_id, k.name, k.prefix, k.last_four, k.secret_hash, k.scopes,
       k.rate_limit_per_minute, k.expires_at, k.last_used_at, k.version, k.created_at, k.updated_at, k.revoked_at
FROM api_keys k JOIN users u ON u.id = k.user_id
WHERE k.public_id = $1
FOR UPDATE OF k;

-- name: UpdateAPIKey :exec
-- Writes every editable column; callers hold the row lock (LockAPIKey).
UPDATE api_keys
SET name = sqlc.arg(name), rate_limit_per_minute = sqlc.narg(rate_limit_per_minute), revoked_at = sqlc.narg(revoked_at),
    version = version + 1, updated_at = now()
WHERE public_id = sqlc.arg(public_id);

-- name: GetAPIKeyCredential :one
-- What authenticating with a key needs, with its owner's current standing; a deleted owner's keys are gone.
SELECT k.public_id, u.public_id AS owner_public_id, k.secret_hash, k.scopes, k.rate_limit_per_minute,
       k.expires_at, k.revoked_at, u.role AS owner_role, u.status AS owner_status
FROM api_keys k JOIN users u ON u.id = k.user_id
WHERE k.secret_hash = $1 AND u.deleted_at IS NULL;

-- name: ListLiveAPIKeyHashes :many
-- The secret hashes of a user's keys that are not revoked: what a cache of credentials must forget when
-- the user's role or status changes.
SELECT k.secret_hash FROM api_keys k JOIN users u ON u.id = k.user_id
WHERE u.public_id = $1 AND k.revoked_at IS NULL;

-- name: TouchAPIKey :exec
-- Coalesced: at most one write a minute per key, however many instances use it.
UPDATE api_keys SET last_used_at = now()
WHERE public_id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');
