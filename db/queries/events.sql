-- name: InsertEvent :exec
INSERT INTO events (public_id, type, resource_id, data, changed_fields, request_id, traceparent, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8);

-- name: GetEvent :one
SELECT * FROM events WHERE public_id = $1;

-- name: DeleteOldEvents :execrows
-- One batch of events past the retention, with their deliveries (whose attempts cascade). Events that
-- still have a pending delivery stay until it ends. The janitor repeats the batch until none is left.
WITH doomed AS (
    SELECT e.id FROM events e
    WHERE e.created_at < sqlc.arg(before)
      AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.status = 'pending')
    ORDER BY e.created_at
    LIMIT 5000
), deliveries AS (
    DELETE FROM webhook_deliveries d USING doomed WHERE d.event_id = doomed.id
)
DELETE FROM events WHERE id IN (SELECT id FROM doomed);
