// Starts a real Storefront server for the end-to-end tests: a fresh database on the test PostgreSQL,
// migrated and seeded by the binary make builds (.bin/storefront), served on a free loopback port with
// the test Redis (own key prefix), and stopped and dropped afterwards. Every step has a deadline.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../../", import.meta.url)); // dist/ → e2e/ → openapi/ → repository
const binary = process.env.STOREFRONT_BIN ?? root + ".bin/storefront";

export const allowedOrigin = "http://localhost:5173";

export interface Server {
  url: string;
  stop(): Promise<void>;
}

function databaseURL(base: string, name: string): string {
  const u = new URL(base);
  u.pathname = "/" + name;
  return u.toString();
}

async function psql(base: string, sql: string): Promise<void> {
  await run("psql", [base, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], { timeout: 30_000 });
}

export async function startServer(): Promise<Server> {
  const base = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";
  const suffix = randomBytes(6).toString("hex");
  const name = "storefront_e2e_" + suffix;
  await psql(base, `CREATE DATABASE ${name}`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    DATABASE_URL: databaseURL(base, name),
    REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0",
    REDIS_KEY_PREFIX: `e2e:${suffix}:`,
    HTTP_ADDR: "127.0.0.1:0",
    JWT_SECRET: randomBytes(32).toString("hex"),
    CORS_ALLOWED_ORIGINS: allowedOrigin,
    LOG_LEVEL: "warn",
  };
  let child: ChildProcess | undefined;
  const dropDatabase = () => psql(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  try {
    await run(binary, ["migrate"], { env: { ...env }, timeout: 60_000 });
    await run(binary, ["seed"], { env: { ...env }, timeout: 60_000 });
    // LOG_LEVEL=warn hides the access log; the start line ("listening", with the address) is info, so
    // serve logs at info and the harness keeps only what it needs.
    child = spawn(binary, ["serve"], { env: { ...env, LOG_LEVEL: "info" }, stdio: ["ignore", "pipe", "pipe"] });
    const url = await listeningURL(child, 30_000);
    await waitReady(url, 30_000);
    const started = child;
    return {
      url,
      async stop() {
        await stopProcess(started);
        await dropDatabase();
      },
    };
  } catch (err) {
    if (child) await stopProcess(child);
    await dropDatabase();
    throw err;
  }
}

// listeningURL reads the server's JSON log until the "listening" line gives the port it picked.
function listeningURL(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => reject(new Error("server did not start in time:\n" + log)), timeoutMs);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const m = /"msg":"listening","addr":"([^"]+)"/.exec(log);
      if (m?.[1]) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stdout?.resume(); // keep draining so the server never blocks on a full pipe
        resolve("http://" + m[1]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => { log += chunk.toString(); });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${log}`));
    });
  });
}

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url + "/ready", { signal: AbortSignal.timeout(2_000) });
      if (r.status === 200) return;
    } catch {
      // not accepting yet
    }
    if (Date.now() > deadline) throw new Error(`${url}/ready did not answer 200 in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
