-- name: CreateWebhookEndpoint :one
INSERT INTO webhook_endpoints (public_id, url, description, event_types, enabled, secret)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING *;

-- name: GetWebhookEndpoint :one
SELECT * FROM webhook_endpoints WHERE public_id = $1 AND deleted_at IS NULL;

-- name: LockWebhookEndpoint :one
SELECT * FROM webhook_endpoints WHERE public_id = $1 AND deleted_at IS NULL FOR UPDATE;

-- name: UpdateWebhookEndpoint :one
UPDATE webhook_endpoints
SET url = $2, description = $3, event_types = $4, enabled = $5, disabled_reason = $6, secret = $7,
    previous_secret = $8, previous_secret_expires_at = $9, failing_since = $10,
    version = version + 1, updated_at = now()
WHERE public_id = $1 AND deleted_at IS NULL
RETURNING *;

-- name: SoftDeleteWebhookEndpoint :execrows
UPDATE webhook_endpoints SET deleted_at = now(), version = version + 1, updated_at = now()
WHERE public_id = $1 AND deleted_at IS NULL;

-- name: SetWebhookEndpointFailing :exec
-- Starts the failing streak (since set) only when none runs, or ends it (since null) only when one does,
-- so the common case writes nothing.
UPDATE webhook_endpoints SET failing_since = sqlc.narg(since)
WHERE public_id = sqlc.arg(public_id) AND (failing_since IS NULL) <> (sqlc.narg(since)::timestamptz IS NULL);

-- name: CreateWebhookDeliveries :many
-- The fan-out of an event: a pending delivery to every enabled endpoint subscribed to its type.
INSERT INTO webhook_deliveries (public_id, event_id, endpoint_id, next_attempt_at)
SELECT storefront_uuidv7(), e.id, w.id, now()
FROM events e
JOIN webhook_endpoints w ON w.deleted_at IS NULL AND w.enabled AND w.event_types @> ARRAY[e.type]
WHERE e.public_id = sqlc.arg(event_id)
ORDER BY w.id
RETURNING public_id;

-- name: GetWebhookTask :one
SELECT sqlc.embed(d), sqlc.embed(w), sqlc.embed(e)
FROM webhook_deliveries d
JOIN webhook_endpoints w ON w.id = d.endpoint_id
JOIN events e ON e.id = d.event_id
WHERE d.public_id = $1;

-- name: LockWebhookDelivery :one
SELECT d.id, d.public_id, w.public_id AS endpoint_public_id, e.public_id AS event_public_id, e.type AS event_type,
       d.status, d.attempts, d.next_attempt_at, d.last_attempt_at, d.last_status_code, d.last_duration_ms,
       d.last_error, d.created_at, d.updated_at
FROM webhook_deliveries d
JOIN webhook_endpoints w ON w.id = d.endpoint_id
JOIN events e ON e.id = d.event_id
WHERE d.public_id = sqlc.arg(delivery_id) AND w.public_id = sqlc.arg(endpoint_id) AND w.deleted_at IS NULL
FOR UPDATE OF d;

-- name: ClaimWebhookDelivery :one
-- Claims a due delivery for one attempt; no row when it is not pending, not due, or claimed by an
-- attempt under way (whose claim has not run out).
UPDATE webhook_deliveries SET claimed_until = sqlc.arg(until)::timestamptz
WHERE public_id = sqlc.arg(delivery_id) AND status = 'pending' AND next_attempt_at <= sqlc.arg(now)::timestamptz
  AND (claimed_until IS NULL OR claimed_until <= sqlc.arg(now)::timestamptz)
RETURNING attempts;

-- name: RecordWebhookAttempt :exec
WITH d AS (
    UPDATE webhook_deliveries
    SET status = sqlc.arg(status), attempts = sqlc.arg(number), next_attempt_at = sqlc.narg(next_attempt_at),
        last_attempt_at = sqlc.arg(attempted_at), last_status_code = sqlc.narg(status_code),
        last_duration_ms = sqlc.arg(duration_ms), last_error = sqlc.narg(error), claimed_until = NULL,
        updated_at = now()
    WHERE public_id = sqlc.arg(delivery_id)
    RETURNING id
)
INSERT INTO webhook_attempts (delivery_id, number, outcome, status_code, duration_ms, error, created_at)
SELECT d.id, sqlc.arg(number), sqlc.arg(outcome), sqlc.narg(status_code), sqlc.arg(duration_ms), sqlc.narg(error),
       sqlc.arg(attempted_at)
FROM d;

-- name: CloseWebhookDelivery :exec
UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, last_error = $2, updated_at = now()
WHERE public_id = $1 AND status = 'pending';

-- name: RequeueWebhookDelivery :exec
UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = sqlc.arg(next_attempt_at)::timestamptz, updated_at = now()
WHERE public_id = sqlc.arg(public_id);

-- name: WebhookAttempts :many
-- The latest attempts of a page of deliveries, newest first, at most 50 each.
SELECT a.delivery_id, a.number, a.outcome, a.status_code, a.duration_ms, a.error, a.created_at
FROM (
    SELECT x.*, row_number() OVER (PARTITION BY x.delivery_id ORDER BY x.number DESC) AS rn
    FROM webhook_attempts x
    WHERE x.delivery_id = ANY(sqlc.arg(delivery_ids)::bigint[])
) a
WHERE a.rn <= 50
ORDER BY a.delivery_id, a.number DESC;
