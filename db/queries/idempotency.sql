-- name: ClaimIdempotencyKey :one
-- Inserts the key as in progress; no row comes back when the scope already holds it.
INSERT INTO idempotency_keys (scope, key, fingerprint)
VALUES ($1, $2, $3)
ON CONFLICT (scope, key) DO NOTHING
RETURNING id;

-- name: GetIdempotencyKey :one
SELECT id, fingerprint, state, response_status, response_header, response_body,
       (locked_at < now() - make_interval(secs => sqlc.arg(stale_seconds)::int))::boolean AS stale,
       (expires_at < now())::boolean AS expired
FROM idempotency_keys
WHERE scope = sqlc.arg(scope) AND key = sqlc.arg(key);

-- name: TakeOverIdempotencyKey :one
-- An in-progress key whose request died (its lock went stale) may be claimed again; one taker wins.
UPDATE idempotency_keys SET locked_at = now()
WHERE id = $1 AND state = 'in_progress' AND locked_at < now() - make_interval(secs => sqlc.arg(stale_seconds)::int)
RETURNING id;

-- name: DeleteIdempotencyKey :exec
DELETE FROM idempotency_keys WHERE id = $1;

-- name: CompleteIdempotencyKey :exec
UPDATE idempotency_keys
SET state = 'completed', response_status = $2, response_header = $3, response_body = $4, locked_at = now()
WHERE id = $1;

-- name: DeleteExpiredIdempotencyKeys :execrows
DELETE FROM idempotency_keys WHERE expires_at < now();
