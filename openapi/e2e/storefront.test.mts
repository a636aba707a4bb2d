// A frontend's first session against the real server, through the generated TypeScript types
// (gen/ts/schema.d.ts, openapi-typescript) and openapi-fetch: register, sign in, browse, order with an
// Idempotency-Key, replay it, pay, and read typed errors. Compiled with tsc --strict: a response field this
// program reads that the contract renames or removes fails the build, and the asserts check the values.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import createClient, { type Client } from "openapi-fetch";

import type { components, paths } from "../../gen/ts/schema.js";
import { allowedOrigin, startServer, type Server } from "./harness.mjs";

type Product = components["schemas"]["Product"];
type ErrorCode = components["schemas"]["ErrorBody"]["code"];

let server: Server;
let api: Client<paths>;
let token = "";
const auth = () => ({ Authorization: `Bearer ${token}` });

before(async () => {
  server = await startServer();
  api = createClient<paths>({ baseUrl: server.url, headers: { Origin: allowedOrigin } });
}, { timeout: 120_000 });

after(async () => {
  await server?.stop();
});

const email = `ada.${randomUUID()}@example.com`;
const password = "correct-horse-battery";
let tea: Product;
let orderId = "";

test("register", { timeout: 10_000 }, async () => {
  const { data, error, response } = await api.POST("/v1/users", {
    body: { email, password, name: "Ada Lovelace" },
  });
  assert.equal(error, undefined);
  assert.equal(response.status, 201);
  assert.equal(data?.data.email, email);
  assert.equal(data?.data.role, "customer");
  assert.match(response.headers.get("Location") ?? "", /^\/v1\/users\/[0-9a-f-]{36}$/);
  // CORS: the allow-listed origin may read the answer; the draft's rate-limit fields come along.
  assert.equal(response.headers.get("Access-Control-Allow-Origin"), allowedOrigin);
  assert.match(response.headers.get("RateLimit") ?? "", /^"anonymous";r=\d+;t=\d+$/);
});

test("sign in", { timeout: 10_000 }, async () => {
  const { data, error } = await api.POST("/v1/auth/login", { body: { email, password } });
  assert.equal(error, undefined);
  assert.ok(data);
  assert.equal(data.data.token_type, "Bearer");
  assert.ok(data.data.expires_in > 0);
  token = data.data.access_token;
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);

  const me = await api.GET("/v1/me", { headers: auth() });
  assert.equal(me.data?.data.email, email);
  assert.match(me.response.headers.get("ETag") ?? "", /^"\d+"$/);
});

test("browse products", { timeout: 10_000 }, async () => {
  const { data, error } = await api.GET("/v1/products", { params: { query: { q: "sencha", limit: 5 } } });
  assert.equal(error, undefined);
  assert.ok(data);
  assert.equal(data.meta.per_page, 5);
  const found = data.data.find((p) => p.slug === "sencha-green-tea");
  assert.ok(found, "the demo catalog has Sencha");
  tea = found;
  assert.equal(tea.currency, "USD");
  assert.ok(tea.price_cents > 0 && tea.stock > 0 && tea.active);

  const one = await api.GET("/v1/products/{product_id}", { params: { path: { product_id: tea.id } } });
  assert.equal(one.data?.data.name, tea.name);
  assert.equal(one.response.headers.get("Cache-Control"), "public, max-age=60");
});

test("place an order with an Idempotency-Key, and replay it", { timeout: 10_000 }, async () => {
  const key = randomUUID();
  const body: components["schemas"]["OrderCreate"] = {
    items: [{ product_id: tea.id, quantity: 2 }],
    shipping_address: { name: "Ada Lovelace", line1: "12 St James's Square", city: "London", postal_code: "SW1Y 4JH", country: "GB" },
  };
  const params = { header: { "Idempotency-Key": key } };
  const first = await api.POST("/v1/orders", { params, body, headers: auth() });
  assert.equal(first.error, undefined);
  assert.equal(first.response.status, 201);
  const order = first.data?.data;
  assert.ok(order);
  assert.equal(order.status, "pending");
  assert.equal(order.subtotal_cents, 2 * tea.price_cents);
  assert.equal(order.items[0]?.unit_price_cents, tea.price_cents);
  assert.equal(first.response.headers.get("Idempotent-Replayed"), null);
  orderId = order.id;

  const again = await api.POST("/v1/orders", { params, body, headers: auth() });
  assert.equal(again.response.status, 201);
  assert.equal(again.response.headers.get("Idempotent-Replayed"), "true");
  assert.equal(again.data?.data.id, orderId, "a replay returns the same order");
});

test("pay", { timeout: 10_000 }, async () => {
  const { data, error } = await api.POST("/v1/orders/{order_id}/payment", {
    params: { path: { order_id: orderId }, header: { "Idempotency-Key": randomUUID() } },
    body: { payment_method: "pm_card_ok" },
    headers: auth(),
  });
  assert.equal(error, undefined);
  assert.ok(data);
  assert.equal(data.data.status, "paid");
  assert.equal(data.data.payment?.status, "succeeded");
  assert.equal(data.data.payment?.amount_cents, data.data.total_cents);
  assert.ok(data.data.paid_at);
});

test("typed errors", { timeout: 10_000 }, async () => {
  const missing = await api.GET("/v1/orders/{order_id}", { params: { path: { order_id: randomUUID() } }, headers: auth() });
  assert.equal(missing.response.status, 404);
  const notFound: ErrorCode | undefined = missing.error?.error.code;
  assert.equal(notFound, "NOT_FOUND");
  assert.ok(missing.error?.error.request_id);

  // The demo catalog has one "Last Pour-Over Kettle"; two are more than there is.
  const kettles = await api.GET("/v1/products", { params: { query: { q: "kettle" } } });
  const kettle = kettles.data?.data.find((p) => p.stock === 1);
  assert.ok(kettle);
  const short = await api.POST("/v1/orders", {
    params: { header: { "Idempotency-Key": randomUUID() } },
    body: { items: [{ product_id: kettle.id, quantity: 2 }], shipping_address: { name: "Ada", line1: "1 Main St", city: "Leeds", postal_code: "LS1 1AA", country: "GB" } },
    headers: auth(),
  });
  assert.equal(short.response.status, 422);
  const code: ErrorCode | undefined = short.error?.error.code;
  assert.equal(code, "INSUFFICIENT_STOCK");
  assert.equal(short.error?.error.details?.[0]?.field, "items[0].quantity");

  const invalid = await api.POST("/v1/users", { body: { email: "nope", password: "short", name: "X" } });
  assert.equal(invalid.response.status, 400);
  assert.equal(invalid.error?.error.code, "VALIDATION_ERROR");
  assert.deepEqual(invalid.error?.error.details?.map((d) => d.field).sort(), ["email", "password"]);
});

test("request types accept what the server accepts: a product with only its required fields", { timeout: 10_000 }, async () => {
  const admin = await api.POST("/v1/auth/login", { body: { email: "admin@storefront.example", password: "admin-password-123" } });
  assert.ok(admin.data);
  const minimal: components["schemas"]["ProductCreate"] = { name: `Hojicha ${randomUUID()}`, price_cents: 1100, stock: 3 };
  const created = await api.POST("/v1/products", { body: minimal, headers: { Authorization: `Bearer ${admin.data.data.access_token}` } });
  assert.equal(created.response.status, 201);
  assert.equal(created.data?.data.active, true, "active defaults to true");
  assert.equal(created.data?.data.currency, "USD", "currency defaults to USD");
});
