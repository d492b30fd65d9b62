// The flows of docs/api.md, written as an integrator would: with a client generated from
// GET /v1/openapi.json by openapi-typescript and called through openapi-fetch. It must
// type-check under tsc --strict; tests/client/run.sh then runs it against a real server
// through Stoplight Prism as a validating proxy (--errors), so every request and answer
// is also held to the document by a third party.
//   node flows.mjs BASE_URL API_KEY HOOK_URL
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

declare const process: { argv: string[] };  // Node's, without @types/node

const [baseUrl, key, hookUrl] = process.argv.slice(2) as [string, string, string];
const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${key}` } });

function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`flow failed: ${what}`);
}

function problemOf(error: unknown, response: Response): string {
  return `${response.status} ${JSON.stringify(error)} (Prism's sl-violations: ${response.headers.get("sl-violations") ?? "none"})`;
}

// 1. Create an account.
const created = await client.POST("/v1/accounts", {
  body: { legal_name: "Fazenda Boa Vista Ltda", tax_id: "12.ABC.345/01DE-35", phones: ["(34) 99876-5432"] },
});
check(created.data !== undefined, `create: ${problemOf(created.error, created.response)}`);
const account = created.data;
check(account.id.startsWith("acc_") && account.version === 1, "create answers the record");
check(account.tax_id_kind === "cnpj", "tax_id_kind is derived");
const etag = created.response.headers.get("ETag");
check(etag === '"1"', `create answers ETag "1", got ${etag}`);
check(created.response.headers.get("Location") === `/v1/accounts/${account.id}`, "create answers Location");

// 2. A partial PATCH with If-Match: only the field that changes.
const patched = await client.PATCH("/v1/accounts/{id}", {
  params: { path: { id: account.id }, header: { "If-Match": etag } },
  body: { lifecycle: "customer" },
});
check(patched.data !== undefined, `patch: ${problemOf(patched.error, patched.response)}`);
check(patched.data.lifecycle === "customer" && patched.data.version === 2, "patch changed lifecycle only");
const stale = await client.PATCH("/v1/accounts/{id}", {
  params: { path: { id: account.id }, header: { "If-Match": etag } },
  body: { trade_name: "Boa Vista" },
});
check(stale.response.status === 412 && stale.error?.status === 412, "a stale If-Match answers 412");

// 3. A batch: one create, one update, one refused item.
const batch = await client.POST("/v1/contacts/batch", {
  body: {
    operations: [
      { method: "create", data: { name: "Ana Souza", email: "ana@boavista.agr.br", account_id: account.id } },
      { method: "create", data: { name: "Bruno Lima", email: "bruno@boavista.agr.br" } },
      { method: "create", data: { email: "nameless@boavista.agr.br" } },
    ],
  },
});
check(batch.data !== undefined, `batch: ${problemOf(batch.error, batch.response)}`);
const results = batch.data.results;
check(results.length === 3 && results[0]?.status === 201 && results[1]?.status === 201, "batch created two");
check(results[2]?.status === 422 && results[2].problem?.errors[0]?.field === "name", "batch refused the third");
const ana = results[0]?.data;
check(ana !== undefined, "batch answers the created record");
const updated = await client.POST("/v1/contacts/batch", {
  body: { operations: [{ method: "update", id: ana.id, version: ana.version, data: { job_title: "Compradora" } }] },
});
check(updated.data?.results[0]?.status === 200, "batch update applied");

// 4. Search, paging with the cursor.
const seen: string[] = [];
let cursor: string | undefined;
do {
  const page = await client.POST("/v1/contacts/search", {
    body: {
      filter_groups: [{ filters: [{ field: "email", op: "contains", value: "boavista" }] }],
      sort: [{ field: "name", direction: "asc" }],
      limit: 1,
      ...(cursor ? { cursor } : {}),
    },
  });
  check(page.data !== undefined, `search: ${problemOf(page.error, page.response)}`);
  for (const contact of page.data.data) seen.push(contact.name);
  cursor = page.data.next_cursor ?? undefined;
} while (cursor);
check(JSON.stringify(seen) === JSON.stringify(["Ana Souza", "Bruno Lima"]), `search pages: ${seen}`);

// 5. A webhook: its secret is in the creation's answer only.
const hook = await client.POST("/v1/webhooks", {
  body: { url: hookUrl, events: ["account.*"], description: "CRM sync" },
});
check(hook.data !== undefined, `webhook: ${problemOf(hook.error, hook.response)}`);
const secret: string = hook.data.secret;
check(secret.startsWith("whsec_"), "the webhook's secret is shown once");
const read = await client.GET("/v1/webhooks/{id}", { params: { path: { id: hook.data.id } } });
check(read.data !== undefined && !("secret" in read.data), "the secret is not shown again");

// 6. Audit events, paged (the sequencer logs them shortly after the writes).
let events = 0;
for (let attempt = 0; attempt < 100 && events < 3; attempt++) {
  events = 0;
  let after: string | undefined;
  do {
    const page = await client.GET("/v1/audit/events", {
      params: { query: { entity_type: "contact", limit: 2, ...(after ? { cursor: after } : {}) } },
    });
    check(page.data !== undefined, `audit events: ${problemOf(page.error, page.response)}`);
    for (const event of page.data.data) check(event.leaf.entity.type === "contact", "filtered by entity type");
    events += page.data.data.length;
    after = page.data.next_cursor ?? undefined;
  } while (after);
  if (events < 3) await new Promise((resolve) => setTimeout(resolve, 100));
}
check(events >= 3, `audit events of the contacts: ${events}`);

console.log("the flows of docs/api.md ran through the generated client: create, partial PATCH with If-Match, " +
  `batch, search (${seen.length} pages), webhook secret, audit events (${events})`);
