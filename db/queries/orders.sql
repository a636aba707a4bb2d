-- name: LockProductsForOrder :many
-- Locks in id order, so two orders over the same products always lock in the same order and never deadlock.
SELECT id, public_id, name, price_cents, currency, stock, active, (deleted_at IS NOT NULL)::boolean AS deleted
FROM products
WHERE public_id = ANY(sqlc.arg(ids)::uuid[])
ORDER BY id
FOR UPDATE;

-- name: AdjustStock :exec
-- Adds delta (negative to take stock) to each product; the CHECK (stock >= 0) is the last line of defence.
-- The rows are locked in id order first, like LockProductsForOrder, so no two transactions that adjust
-- stock (placing or cancelling orders) can deadlock.
WITH v AS (
    SELECT unnest(sqlc.arg(ids)::uuid[]) AS id, unnest(sqlc.arg(deltas)::int[]) AS delta
), locked AS (
    SELECT p.id, p.public_id FROM products p WHERE p.public_id IN (SELECT v.id FROM v) ORDER BY p.id FOR UPDATE
)
UPDATE products p
SET stock = p.stock + v.delta, version = p.version + 1, updated_at = now()
FROM locked JOIN v ON v.id = locked.public_id
WHERE p.id = locked.id;

-- name: InsertOrder :one
INSERT INTO orders (public_id, user_id, subtotal_cents, total_cents, currency, shipping_address)
SELECT sqlc.arg(public_id), u.id, sqlc.arg(subtotal_cents), sqlc.arg(total_cents), sqlc.arg(currency), sqlc.arg(shipping_address)
FROM users u WHERE u.public_id = sqlc.arg(user_public_id) AND u.deleted_at IS NULL AND u.status = 'active'
RETURNING id, version, created_at, updated_at;

-- name: InsertOrderItems :exec
INSERT INTO order_items (order_id, product_id, position, name, unit_price_cents, quantity, line_total_cents)
SELECT sqlc.arg(order_id), p.id, v.position, v.name, v.unit_price_cents, v.quantity, v.line_total_cents
FROM (SELECT unnest(sqlc.arg(product_public_ids)::uuid[]) AS product_public_id, unnest(sqlc.arg(positions)::int[]) AS position,
             unnest(sqlc.arg(names)::text[]) AS name, unnest(sqlc.arg(unit_prices)::bigint[]) AS unit_price_cents,
             unnest(sqlc.arg(quantities)::int[]) AS quantity, unnest(sqlc.arg(line_totals)::bigint[]) AS line_total_cents) AS v
JOIN products p ON p.public_id = v.product_public_id;

-- name: GetOrder :one
SELECT o.id, o.public_id, u.public_id AS user_public_id, o.status, o.subtotal_cents, o.total_cents, o.currency,
       o.shipping_address, o.carrier, o.tracking_number, o.cancellation_reason, o.version, o.created_at,
       o.updated_at, o.paid_at, o.shipped_at, o.delivered_at, o.cancelled_at
FROM orders o JOIN users u ON u.id = o.user_id
WHERE o.public_id = $1;

-- name: LockOrder :one
SELECT o.id, o.public_id, u.public_id AS user_public_id, o.status, o.subtotal_cents, o.total_cents, o.currency,
       o.shipping_address, o.carrier, o.tracking_number, o.cancellation_reason, o.version, o.created_at,
       o.updated_at, o.paid_at, o.shipped_at, o.delivered_at, o.cancelled_at
FROM orders o JOIN users u ON u.id = o.user_id
WHERE o.public_id = $1
FOR UPDATE OF o;

-- name: OrderItems :many
SELECT oi.order_id, p.public_id AS product_public_id, oi.product_id, oi.name, oi.unit_price_cents, oi.quantity, oi.line_total_cents
FROM order_items oi JOIN products p ON p.id = oi.product_id
WHERE oi.order_id = ANY(sqlc.arg(order_ids)::bigint[])
ORDER BY oi.order_id, oi.position;

-- name: OrderPayments :many
-- The charge of each order (failed attempts are kept but not shown).
SELECT order_id, status, amount_cents, currency, provider_reference, created_at
FROM payments
WHERE order_id = ANY(sqlc.arg(order_ids)::bigint[]) AND status IN ('succeeded', 'refunded');

-- name: SetOrderStatus :exec
UPDATE orders
SET status = sqlc.arg(status),
    carrier = coalesce(sqlc.narg(carrier), carrier),
    tracking_number = coalesce(sqlc.narg(tracking_number), tracking_number),
    cancellation_reason = coalesce(sqlc.narg(cancellation_reason), cancellation_reason),
    paid_at = CASE WHEN sqlc.arg(status) = 'paid' THEN now() ELSE paid_at END,
    shipped_at = CASE WHEN sqlc.arg(status) = 'shipped' THEN now() ELSE shipped_at END,
    delivered_at = CASE WHEN sqlc.arg(status) = 'delivered' THEN now() ELSE delivered_at END,
    cancelled_at = CASE WHEN sqlc.arg(status) = 'cancelled' THEN now() ELSE cancelled_at END,
    version = version + 1,
    updated_at = now()
WHERE public_id = sqlc.arg(public_id);

-- name: InsertPayment :exec
INSERT INTO payments (order_id, status, amount_cents, currency, payment_method, provider, provider_reference, failure_reason)
SELECT o.id, sqlc.arg(status), sqlc.arg(amount_cents), sqlc.arg(currency), sqlc.arg(payment_method), sqlc.arg(provider),
       sqlc.arg(provider_reference), sqlc.narg(failure_reason)
FROM orders o WHERE o.public_id = sqlc.arg(public_id);

-- name: MarkPaymentRefunded :exec
UPDATE payments SET status = 'refunded', updated_at = now()
WHERE order_id = (SELECT id FROM orders WHERE public_id = $1) AND status = 'succeeded';

