-- name: InsertAuditEvent :exec
INSERT INTO audit_events (public_id, actor_id, api_key_id, action, resource_type, resource_id, request_id, client_ip, changes)
VALUES (sqlc.arg(public_id), sqlc.narg(actor_id), sqlc.narg(api_key_id), sqlc.arg(action), sqlc.arg(resource_type),
        sqlc.narg(resource_id), sqlc.narg(request_id), sqlc.narg(client_ip), sqlc.arg(changes));

-- name: SetAuditRetention :exec
UPDATE audit_policy SET retention_days = $1 WHERE retention_days <> $1;

-- name: PruneAuditEvents :execrows
-- One batch of expired entries, oldest first; the guard trigger refuses any that has not expired.
DELETE FROM audit_events WHERE id IN (
    SELECT id FROM audit_events
    WHERE occurred_at < now() - make_interval(days => (SELECT retention_days FROM audit_policy))
    ORDER BY occurred_at
    LIMIT sqlc.arg(batch)::int
);
