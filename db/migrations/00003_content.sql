-- +goose Up
-- Posts. Tags are lower-case slugs kept in an array (at most 10); search is a weighted tsvector:
-- title above excerpt above body.
CREATE TABLE posts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id    uuid        NOT NULL UNIQUE,
    author_id    bigint      NOT NULL REFERENCES users (id),
    title        text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    slug         text        NOT NULL,
    body         text        NOT NULL CHECK (length(body) BETWEEN 1 AND 100000),
    excerpt      text        CHECK (length(excerpt) <= 500),
    status       text        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
    tags         text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 10),
    published_at timestamptz,
    version      bigint      NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz,
    search       tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') ||
        setweight(to_tsvector('english', coalesce(excerpt, '')), 'B') ||
        setweight(to_tsvector('english', body), 'C')
    ) STORED
);
CREATE UNIQUE INDEX posts_slug_live_key ON posts (slug) WHERE deleted_at IS NULL;
-- Lists sort by publication time with never-published posts first (ascending), as the keyset expression
-- in internal/postgres/content.go spells it. Public lists see published posts only, hence the partial
-- indexes; authors' and moderators' lists use the author and status indexes.
CREATE INDEX posts_published_at_idx ON posts ((coalesce(published_at, '0001-01-01 00:00:00+00'::timestamptz)), public_id)
    WHERE deleted_at IS NULL AND status = 'published';
CREATE INDEX posts_title_idx ON posts (title, public_id) WHERE deleted_at IS NULL AND status = 'published';
CREATE INDEX posts_created_at_idx ON posts (created_at, public_id) WHERE deleted_at IS NULL AND status = 'published';
CREATE INDEX posts_author_published_at_idx ON posts (author_id, (coalesce(published_at, '0001-01-01 00:00:00+00'::timestamptz)), public_id)
    WHERE deleted_at IS NULL;
CREATE INDEX posts_status_created_at_idx ON posts (status, created_at, public_id) WHERE deleted_at IS NULL;
CREATE INDEX posts_tags_idx ON posts USING gin (tags) WHERE deleted_at IS NULL;
CREATE INDEX posts_search_idx ON posts USING gin (search) WHERE deleted_at IS NULL;

CREATE TABLE comments (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id  uuid        NOT NULL UNIQUE,
    post_id    bigint      NOT NULL REFERENCES posts (id),
    author_id  bigint      NOT NULL REFERENCES users (id),
    body       text        NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);
CREATE INDEX comments_post_created_at_idx ON comments (post_id, created_at, public_id) WHERE deleted_at IS NULL;

-- +goose Down
DROP TABLE comments;
DROP TABLE posts;
