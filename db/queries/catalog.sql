-- name: CreateCategory :one
INSERT INTO categories (public_id, name, slug, description)
VALUES ($1, $2, $3, $4)
RETURNING *;

-- name: GetCategory :one
SELECT * FROM categories WHERE public_id = $1 AND deleted_at IS NULL;

-- name: LockCategory :one
SELECT * FROM categories WHERE public_id = $1 AND deleted_at IS NULL FOR UPDATE;

-- name: UpdateCategory :one
UPDATE categories
SET name = $2, slug = $3, description = $4, version = version + 1, updated_at = now()
WHERE public_id = $1 AND deleted_at IS NULL
RETURNING *;

-- name: SoftDeleteCategory :execrows
UPDATE categories SET deleted_at = now(), version = version + 1, updated_at = now()
WHERE public_id = $1 AND deleted_at IS NULL;

-- name: CategoryHasProducts :one
SELECT EXISTS (
    SELECT 1 FROM products p JOIN categories c ON c.id = p.category_id
    WHERE c.public_id = $1 AND p.deleted_at IS NULL
);

-- name: CategorySlugsLike :many
-- Live slugs equal to the base or the base with a numeric suffix, to pick a free one.
SELECT slug FROM categories
WHERE deleted_at IS NULL AND (slug = sqlc.arg(base)::text OR slug LIKE sqlc.arg(base)::text || '-%');

-- name: ProductSlugsLike :many
SELECT slug FROM products
WHERE deleted_at IS NULL AND (slug = sqlc.arg(base)::text OR slug LIKE sqlc.arg(base)::text || '-%');

-- name: CategoryInternalID :one
SELECT id FROM categories WHERE public_id = $1 AND deleted_at IS NULL;

-- name: CreateProduct :one
INSERT INTO products (public_id, category_id, name, slug, description, price_cents, currency, stock, attributes, active)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
RETURNING id;

-- name: GetProduct :one
SELECT p.id, p.public_id, c.public_id AS category_public_id, p.name, p.slug, p.description, p.price_cents,
       p.currency, p.stock, p.attributes, p.active, p.version, p.created_at, p.updated_at
FROM products p LEFT JOIN categories c ON c.id = p.category_id
WHERE p.public_id = $1 AND p.deleted_at IS NULL;

-- name: LockProduct :one
SELECT p.id, p.public_id, c.public_id AS category_public_id, p.name, p.slug, p.description, p.price_cents,
       p.currency, p.stock, p.attributes, p.active, p.version, p.created_at, p.updated_at
FROM products p LEFT JOIN categories c ON c.id = p.category_id
WHERE p.public_id = $1 AND p.deleted_at IS NULL
FOR UPDATE OF p;

-- name: UpdateProduct :exec
UPDATE products
SET category_id = $2, name = $3, slug = $4, description = $5, price_cents = $6, currency = $7, stock = $8,
    attributes = $9, active = $10, version = version + 1, updated_at = now()
WHERE public_id = $1 AND deleted_at IS NULL;

-- name: SoftDeleteProduct :execrows
UPDATE products SET deleted_at = now(), version = version + 1, updated_at = now()
WHERE public_id = $1 AND deleted_at IS NULL;
