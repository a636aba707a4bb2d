-- +goose Up
-- The per-account sign-in throttle counts failures by email from every address.
CREATE INDEX login_failures_account_idx ON login_failures (email, failed_at);

-- +goose Down
DROP INDEX login_failures_account_idx;
