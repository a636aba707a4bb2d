-- name: LockIdempotencyKey :one
-- Takes the key for the rest of the transaction; false when another transaction holds it.
SELECT pg_try_advisory_xact_lock(hashtextextended(sqlc.arg(scope)::text || ' ' || sqlc.arg(key)::text, 7411))::boolean AS locked;

-- name: GetIdempotencyKey :one
SELECT id, fingerprint, response_status, response_header, response_body, (expires_at < now())::boolean AS expired
FROM idempotency_keys
WHERE scope = $1 AND key = $2;

-- name: DeleteIdempotencyKey :exec
DELETE FROM idempotency_keys WHERE id = $1;

-- name: InsertIdempotencyKey :exec
INSERT INTO idempotency_keys (scope, key, fingerprint, response_status, response_header, response_body)
VALUES ($1, $2, $3, $4, $5, $6);

-- name: DeleteExpiredIdempotencyKeys :execrows
DELETE FROM idempotency_keys WHERE expires_at < now();
