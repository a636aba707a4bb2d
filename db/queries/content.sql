-- name: PostSlugsLike :many
SELECT slug FROM posts
WHERE deleted_at IS NULL AND (slug = sqlc.arg(base)::text OR slug LIKE sqlc.arg(base)::text || '-%');

-- name: CreatePost :exec
INSERT INTO posts (public_id, author_id, title, slug, body, excerpt, status, tags, published_at)
SELECT sqlc.arg(public_id), u.id, sqlc.arg(title), sqlc.arg(slug), sqlc.arg(body), sqlc.narg(excerpt),
       sqlc.arg(status), sqlc.arg(tags)::text[], sqlc.narg(published_at)
FROM users u WHERE u.public_id = sqlc.arg(author_public_id) AND u.deleted_at IS NULL;

-- name: GetPost :one
SELECT p.id, p.public_id, u.public_id AS author_public_id, p.title, p.slug, p.body, p.excerpt, p.status,
       p.tags, p.published_at, p.version, p.created_at, p.updated_at
FROM posts p JOIN users u ON u.id = p.author_id
WHERE p.public_id = $1 AND p.deleted_at IS NULL;

-- name: LockPost :one
SELECT p.id, p.public_id, u.public_id AS author_public_id, p.title, p.slug, p.body, p.excerpt, p.status,
       p.tags, p.published_at, p.version, p.created_at, p.updated_at
FROM posts p JOIN users u ON u.id = p.author_id
WHERE p.public_id = $1 AND p.deleted_at IS NULL
FOR UPDATE OF p;

-- name: UpdatePost :exec
UPDATE posts
SET title = $2, slug = $3, body = $4, excerpt = $5, status = $6, tags = $7, published_at = $8,
    version = version + 1, updated_at = now()
WHERE public_id = $1 AND deleted_at IS NULL;

-- name: SoftDeletePost :one
-- Deletes the post and its comments; no row when the post does not exist (or is already deleted).
WITH deleted AS (
    UPDATE posts SET deleted_at = now(), version = posts.version + 1, updated_at = now()
    WHERE posts.public_id = sqlc.arg(public_id) AND posts.deleted_at IS NULL
    RETURNING posts.id
), comments_deleted AS (
    UPDATE comments SET deleted_at = now()
    WHERE comments.post_id IN (SELECT deleted.id FROM deleted) AND comments.deleted_at IS NULL
)
SELECT deleted.id FROM deleted;

-- name: CreateComment :one
INSERT INTO comments (public_id, post_id, author_id, body)
SELECT sqlc.arg(public_id), p.id, u.id, sqlc.arg(body)
FROM posts p, users u
WHERE p.public_id = sqlc.arg(post_public_id) AND u.public_id = sqlc.arg(author_public_id)
  AND p.deleted_at IS NULL AND p.status = 'published'
RETURNING created_at;

-- name: GetComment :one
SELECT c.public_id, p.public_id AS post_public_id, u.public_id AS author_public_id, c.body, c.created_at
FROM comments c JOIN posts p ON p.id = c.post_id JOIN users u ON u.id = c.author_id
WHERE c.public_id = $1 AND c.deleted_at IS NULL;

-- name: SoftDeleteComment :execrows
UPDATE comments SET deleted_at = now() WHERE public_id = $1 AND deleted_at IS NULL;

-- name: ListTags :many
-- Tags of published posts with their counts, by name, after the cursor's tag.
SELECT t.tag::text AS name, count(*)::bigint AS post_count
FROM posts p CROSS JOIN LATERAL unnest(p.tags) AS t(tag)
WHERE p.deleted_at IS NULL AND p.status = 'published'
  AND (sqlc.narg(after)::text IS NULL OR t.tag > sqlc.narg(after)::text)
GROUP BY t.tag
ORDER BY t.tag
LIMIT sqlc.arg(max_rows);
