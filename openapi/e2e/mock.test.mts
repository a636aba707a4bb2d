// The Prism mock (`make mock`) answers like the real server: the statuses, error codes and headers a
// frontend built against it will see. Starts Prism on a free port for this run and stops it afterwards.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import createClient, { type Client } from "openapi-fetch";

import type { paths } from "../../gen/ts/schema.js";
import { stopProcess } from "./harness.mjs";

const openapiDir = fileURLToPath(new URL("../../", import.meta.url));
const productId = "0193a6a4-7c1e-7d2a-9f3b-2b8f1d4e5a6c";
const orderId = "0193a6a4-7c1e-7d2a-9f3b-2b8f1d4e5a70";
const bearer = { Authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl" };

let prism: ChildProcess;
let base = "";
let api: Client<paths>;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === "object" ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

before(async () => {
  const port = await freePort();
  prism = spawn(openapiDir + "node_modules/.bin/prism", ["mock", "--host", "127.0.0.1", "--port", String(port), openapiDir + "openapi.yaml"],
    { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  prism.stdout?.on("data", (c: Buffer) => { log += c.toString(); });
  prism.stderr?.on("data", (c: Buffer) => { log += c.toString(); });
  base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (!log.includes("Prism is listening")) {
    if (prism.exitCode !== null) throw new Error("prism exited:\n" + log);
    if (Date.now() > deadline) throw new Error("prism did not start in 60 s:\n" + log);
    await new Promise((r) => setTimeout(r, 100));
  }
  api = createClient<paths>({ baseUrl: base });
}, { timeout: 90_000 });

after(async () => {
  if (prism) await stopProcess(prism);
});

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

test("a product read has the real server's headers", async () => {
  const { data, response } = await api.GET("/v1/products/{product_id}", { params: { path: { product_id: productId } } });
  assert.equal(response.status, 200);
  assert.match(data?.data.id ?? "", uuid);
  const h = response.headers;
  assert.match(h.get("ETag") ?? "", /^"\d+"$/);
  assert.equal(h.get("Cache-Control"), "public, max-age=60");
  assert.equal(h.get("Vary"), "Authorization, X-API-Key");
  const policy = /^"anonymous";q=(\d+);w=60$/.exec(h.get("RateLimit-Policy") ?? "");
  const current = /^"anonymous";r=(\d+);t=(\d+)$/.exec(h.get("RateLimit") ?? "");
  assert.ok(policy && current, `RateLimit-Policy ${h.get("RateLimit-Policy")}, RateLimit ${h.get("RateLimit")}`);
  assert.ok(Number(current[1]) > 0 && Number(current[1]) <= Number(policy[1]), "some quota is left");
  assert.equal(h.get("X-RateLimit-Limit"), policy[1]);
  assert.equal(h.get("X-RateLimit-Remaining"), current[1]);
  assert.equal(h.get("X-RateLimit-Reset"), current[2]);
});

test("signed-in reads are private", async () => {
  const { response } = await api.GET("/v1/me", { headers: bearer });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("Cache-Control"), "private, no-cache");
  const orders = await api.GET("/v1/orders", { headers: bearer });
  assert.equal(orders.response.headers.get("Cache-Control"), "private, no-store");
  assert.match(orders.data?.data[0]?.id ?? "", uuid);
});

test("no token: 401 UNAUTHENTICATED with WWW-Authenticate", async () => {
  const { error, response } = await api.GET("/v1/me");
  assert.equal(response.status, 401);
  assert.equal(error?.error.code, "UNAUTHENTICATED");
  assert.equal(response.headers.get("WWW-Authenticate"), 'Bearer realm="storefront"');
});

test("a parameter out of range: 400 VALIDATION_ERROR", async () => {
  const { error, response } = await api.GET("/v1/products", { params: { query: { limit: 0 } } });
  assert.equal(response.status, 400);
  assert.equal(error?.error.code, "VALIDATION_ERROR");
  assert.ok((error?.error.details ?? []).length > 0);
});

test("an order: 201 with Location, and the business-rule errors by name", async () => {
  const body = {
    items: [{ product_id: productId, quantity: 2 }],
    shipping_address: { name: "Ada Lovelace", line1: "12 St James's Square", city: "London", postal_code: "SW1Y 4JH", country: "GB" },
  };
  const params = { header: { "Idempotency-Key": "3f0c7b8e-2d4a-4c61-9e1f-5b7a8d6c4e21" } };
  const created = await api.POST("/v1/orders", { params, body, headers: bearer });
  assert.equal(created.response.status, 201);
  assert.match(created.response.headers.get("Location") ?? "", /^\/v1\/orders\/[0-9a-f-]{36}$/);
  assert.equal(created.data?.data.status, "pending");
  for (const [status, example, code] of [
    [422, "order_minimum_not_met", "ORDER_MINIMUM_NOT_MET"],
    [422, "insufficient_stock", "INSUFFICIENT_STOCK"],
    [409, "request_in_progress", "REQUEST_IN_PROGRESS"],
  ] as const) {
    const r = await api.POST("/v1/orders", { params, body, headers: { ...bearer, Prefer: `code=${status}, example=${example}` } });
    assert.equal(r.response.status, status);
    assert.equal(r.error?.error.code, code);
  }
});

test("paying: 402 PAYMENT_DECLINED and 409 INVALID_STATE_TRANSITION", async () => {
  const params = { path: { order_id: orderId }, header: { "Idempotency-Key": "8d3e6a52-1c7b-4f09-b2d4-6e9a0c5f7b13" } };
  const declined = await api.POST("/v1/orders/{order_id}/payment", { params, body: { payment_method: "pm_card_declined" }, headers: { ...bearer, Prefer: "code=402" } });
  assert.equal(declined.response.status, 402);
  assert.equal(declined.error?.error.code, "PAYMENT_DECLINED");
  const twice = await api.POST("/v1/orders/{order_id}/payment", { params, body: { payment_method: "pm_card_ok" }, headers: { ...bearer, Prefer: "code=409, example=invalid_state_transition" } });
  assert.equal(twice.response.status, 409);
  assert.equal(twice.error?.error.code, "INVALID_STATE_TRANSITION");
});

test("429 RATE_LIMITED with Retry-After and an empty quota", async () => {
  const { error, response } = await api.GET("/v1/categories", { headers: { Prefer: "code=429" } });
  assert.equal(response.status, 429);
  assert.equal(error?.error.code, "RATE_LIMITED");
  assert.match(response.headers.get("Retry-After") ?? "", /^\d+$/);
  assert.match(response.headers.get("RateLimit") ?? "", /^"anonymous";r=0;t=\d+$/);
  assert.equal(response.headers.get("X-RateLimit-Remaining"), "0");
});

test("a browser on the local frontend's origin may read the answer", async () => {
  const r = await fetch(base + "/v1/categories", { headers: { Origin: "http://localhost:5173" } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("Access-Control-Allow-Origin"), "http://localhost:5173");
});
