-- +goose Up
CREATE TABLE categories (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id   uuid        NOT NULL UNIQUE,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    slug        text        NOT NULL,
    description text        CHECK (length(description) <= 2000),
    version     bigint      NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
CREATE UNIQUE INDEX categories_name_live_key ON categories (lower(name)) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX categories_slug_live_key ON categories (slug) WHERE deleted_at IS NULL;
CREATE INDEX categories_name_sort_idx ON categories (name, public_id) WHERE deleted_at IS NULL;

-- Products. search is a weighted tsvector (name above description) kept by PostgreSQL itself.
CREATE TABLE products (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id   uuid        NOT NULL UNIQUE,
    category_id bigint      REFERENCES categories (id),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug        text        NOT NULL,
    description text        CHECK (length(description) <= 10000),
    price_cents bigint      NOT NULL CHECK (price_cents >= 0),
    currency    char(3)     NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    stock       integer     NOT NULL CHECK (stock >= 0),
    attributes  jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object' AND pg_column_size(attributes) <= 16384),
    active      boolean     NOT NULL DEFAULT true,
    version     bigint      NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz,
    search      tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', name), 'A') || setweight(to_tsvector('english', coalesce(description, '')), 'B')
    ) STORED
);
CREATE UNIQUE INDEX products_slug_live_key ON products (slug) WHERE deleted_at IS NULL;
-- One index per sort, and the category filter in front of each sort (tie-break on public_id).
CREATE INDEX products_created_at_idx ON products (created_at, public_id) WHERE deleted_at IS NULL;
CREATE INDEX products_name_idx ON products (name, public_id) WHERE deleted_at IS NULL;
CREATE INDEX products_price_idx ON products (price_cents, public_id) WHERE deleted_at IS NULL;
CREATE INDEX products_category_created_at_idx ON products (category_id, created_at, public_id) WHERE deleted_at IS NULL;
CREATE INDEX products_category_name_idx ON products (category_id, name, public_id) WHERE deleted_at IS NULL;
CREATE INDEX products_category_price_idx ON products (category_id, price_cents, public_id) WHERE deleted_at IS NULL;
CREATE INDEX products_search_idx ON products USING gin (search) WHERE deleted_at IS NULL;

CREATE TABLE orders (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id           uuid        NOT NULL UNIQUE,
    user_id             bigint      NOT NULL REFERENCES users (id),
    status              text        NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled')),
    subtotal_cents      bigint      NOT NULL CHECK (subtotal_cents >= 0),
    total_cents         bigint      NOT NULL CHECK (total_cents >= 0),
    currency            char(3)     NOT NULL,
    shipping_address    jsonb       NOT NULL,
    carrier             text,
    tracking_number     text,
    cancellation_reason text,
    version             bigint      NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    paid_at             timestamptz,
    shipped_at          timestamptz,
    delivered_at        timestamptz,
    cancelled_at        timestamptz
);
CREATE INDEX orders_user_created_at_idx ON orders (user_id, created_at, public_id);
CREATE INDEX orders_user_status_created_at_idx ON orders (user_id, status, created_at, public_id);
CREATE INDEX orders_created_at_idx ON orders (created_at, public_id);
CREATE INDEX orders_status_created_at_idx ON orders (status, created_at, public_id);

-- Order lines copy the product's name and price at the time of the order.
CREATE TABLE order_items (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id         bigint  NOT NULL REFERENCES orders (id),
    product_id       bigint  NOT NULL REFERENCES products (id),
    position         integer NOT NULL,
    name             text    NOT NULL,
    unit_price_cents bigint  NOT NULL CHECK (unit_price_cents >= 0),
    quantity         integer NOT NULL CHECK (quantity > 0),
    line_total_cents bigint  NOT NULL CHECK (line_total_cents >= 0),
    UNIQUE (order_id, position)
);
CREATE INDEX order_items_product_idx ON order_items (product_id);

-- Every charge attempt and refund, as the payment provider answered it.
CREATE TABLE payments (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id           bigint      NOT NULL REFERENCES orders (id),
    status             text        NOT NULL CHECK (status IN ('succeeded', 'failed', 'refunded')),
    amount_cents       bigint      NOT NULL CHECK (amount_cents >= 0),
    currency           char(3)     NOT NULL,
    payment_method     text        NOT NULL,
    provider           text        NOT NULL,
    provider_reference text        NOT NULL,
    failure_reason     text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_order_idx ON payments (order_id, created_at);
-- At most one successful (or later refunded) charge per order.
CREATE UNIQUE INDEX payments_one_charge_per_order ON payments (order_id) WHERE status IN ('succeeded', 'refunded');

-- Idempotency keys: a row is written, with the response, in the same transaction as the work it
-- records. A request in flight holds a transaction-scoped advisory lock on its key instead of a row, so
-- a crash leaves nothing behind.
CREATE TABLE idempotency_keys (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope           text        NOT NULL,
    key             text        NOT NULL,
    fingerprint     bytea       NOT NULL,
    response_status integer     NOT NULL,
    response_header jsonb       NOT NULL,
    response_body   bytea       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    UNIQUE (scope, key)
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE payments;
DROP TABLE order_items;
DROP TABLE orders;
DROP TABLE products;
DROP TABLE categories;
