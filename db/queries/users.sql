-- name: CreateUser :one
INSERT INTO users (public_id, email, name, password_hash, role)
VALUES ($1, $2, $3, $4, $5)
RETURNING *;

-- name: GetUserByPublicID :one
SELECT * FROM users WHERE public_id = $1 AND deleted_at IS NULL;

-- name: GetUserByEmail :one
SELECT * FROM users WHERE lower(email) = lower(sqlc.arg(email)) AND deleted_at IS NULL;

-- name: UpdateUser :one
-- Writes every editable column; callers hold the row lock (LockUser) and have checked If-Match.
UPDATE users
SET email = sqlc.arg(email),
    name = sqlc.arg(name),
    role = sqlc.arg(role),
    status = sqlc.arg(status),
    password_hash = sqlc.arg(password_hash),
    version = version + 1,
    updated_at = now()
WHERE public_id = sqlc.arg(public_id)
  AND deleted_at IS NULL
RETURNING *;

-- name: SoftDeleteUser :one
UPDATE users
SET deleted_at = now(), version = version + 1, updated_at = now()
WHERE public_id = $1
  AND deleted_at IS NULL
RETURNING id;

-- name: LockUser :one
SELECT * FROM users WHERE public_id = $1 AND deleted_at IS NULL FOR UPDATE;
