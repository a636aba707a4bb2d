// Reads Spectral's JSON report of spectral-strict.yaml (stdin), prints the counts by severity and rule,
// and fails on an error the design does not force. The forced ones (DESIGN.md and issue 14):
// - owasp:api4:2023-rate-limit accepts exactly one family of rate-limit headers; /v1 sends the IETF
//   draft's fields and GitHub's X-RateLimit-* (and the operational endpoints are outside the limiter);
// - owasp:api2:2023-write-restricted on the public sign-in, token and registration writes;
// - owasp:api8:2023-no-server-http on the local development server, http://localhost:8080.
import { readFileSync } from "node:fs";

const publicWrites = new Set(["/v1/users", "/v1/auth/login", "/v1/auth/refresh", "/v1/auth/logout"]);
const forced = {
  "owasp:api4:2023-rate-limit": () => true,
  "owasp:api2:2023-write-restricted": (path) => path[0] === "paths" && publicWrites.has(path[1]) && path[2] === "post",
  "owasp:api8:2023-no-server-http": (path) => path.join(".") === "servers.0.url",
};
const severities = ["error", "warning", "info", "hint"];
const results = JSON.parse(readFileSync(0, "utf8") || "[]");
const counts = new Map();
const unexpected = [];
for (const r of results) {
  const key = `${severities[r.severity]} ${r.code}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
  if (r.severity === 0 && !forced[r.code]?.(r.path)) unexpected.push(`${r.code} at ${r.path.join(".")}: ${r.message}`);
}
for (const [key, n] of [...counts].sort()) console.log(`${String(n).padStart(4)}  ${key}`);
const total = (s) => results.filter((r) => r.severity === s).length;
console.log(`strict Spectral: ${total(0)} errors (${total(0) - unexpected.length} forced by the design), ${total(1)} warnings`);
if (unexpected.length > 0) {
  console.error("errors the design does not force:\n  " + unexpected.join("\n  "));
  process.exit(1);
}
