-- name: CreateRefreshToken :exec
INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
SELECT u.id, sqlc.arg(family_id), sqlc.arg(token_hash), sqlc.arg(expires_at)
FROM users u WHERE u.public_id = sqlc.arg(public_id);

-- name: LockRefreshToken :one
-- Row lock so two concurrent refreshes with the same token cannot both succeed.
SELECT u.public_id AS user_public_id, u.deleted_at AS user_deleted_at,
       rt.family_id, rt.expires_at, rt.used_at, rt.revoked_at
FROM refresh_tokens rt
JOIN users u ON u.id = rt.user_id
WHERE rt.token_hash = $1
FOR UPDATE OF rt;

-- name: MarkRefreshTokenUsed :exec
UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1;

-- name: RevokeRefreshTokenFamily :exec
UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL;

-- name: RevokeUserRefreshTokens :exec
UPDATE refresh_tokens SET revoked_at = now()
WHERE user_id = (SELECT id FROM users WHERE public_id = $1) AND revoked_at IS NULL;

-- name: DeleteExpiredRefreshTokens :execrows
DELETE FROM refresh_tokens WHERE expires_at < now() - interval '1 day';

-- name: CountRecentLoginFailures :one
-- Failures for this email and address inside the window, and the seconds until the oldest leaves it.
-- Both are computed with the database clock, so instances with skewed clocks agree.
SELECT count(*)::bigint AS failures,
       coalesce(ceil(extract(epoch FROM min(failed_at) + make_interval(secs => sqlc.arg(window_seconds)::int) - now())), 0)::int AS retry_after_seconds
FROM login_failures
WHERE email = sqlc.arg(email) AND client_ip = sqlc.arg(client_ip)
  AND failed_at > now() - make_interval(secs => sqlc.arg(window_seconds)::int);

-- name: RecordLoginFailure :exec
INSERT INTO login_failures (email, client_ip) VALUES ($1, $2);

-- name: ClearLoginFailures :exec
DELETE FROM login_failures WHERE email = $1 AND client_ip = $2;

-- name: DeleteOldLoginFailures :execrows
DELETE FROM login_failures WHERE failed_at < now() - interval '1 day';

-- name: LockLoginAttempts :exec
-- Serialises sign-in attempts for one account (email), from every address, until the transaction ends.
SELECT pg_advisory_xact_lock(hashtextextended(sqlc.arg(email)::text, 7412));

-- name: CountRecentAccountLoginFailures :one
-- Failures for this email from every address inside the window, and the seconds until the oldest leaves it.
SELECT count(*)::bigint AS failures,
       coalesce(ceil(extract(epoch FROM min(failed_at) + make_interval(secs => sqlc.arg(window_seconds)::int) - now())), 0)::int AS retry_after_seconds
FROM login_failures
WHERE email = sqlc.arg(email)
  AND failed_at > now() - make_interval(secs => sqlc.arg(window_seconds)::int);
