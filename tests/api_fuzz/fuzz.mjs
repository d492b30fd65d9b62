// A property-based HTTP fuzzer driven by the server's own OpenAPI document (issue #26):
//   node tests/api_fuzz/fuzz.mjs --port PORT --admin KEY --sales KEY --record DIR
//        [--seed 1] [--cases 1500] [--protect id,id,…]
// Each case picks an operation and a caller (an admin key, a sales key, no key, a wrong
// key) with a seeded generator, and builds the request from the operation's JSON
// Schemas — path, query and body — valid most of the time, mutated otherwise (a missing
// required field, a wrong type, an unknown field, broken JSON, a garbage id). Ids the
// server answered are kept and reused, so later cases reach real records. Checked here:
//   - no answer is a 5xx;
//   - an operation that needs a key, called with none or a wrong one, answers 401;
// and every exchange is recorded in DIR for tests/contract/check.mjs, which holds each
// status, header and body to the document. `--protect` names ids the fuzzer must not
// change (its own users and keys: archiving them would end the run's coverage).
// The same seed sends the same requests to the same server state.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
if (!args.port || !args.admin || !args.record) {
  console.error('usage: fuzz.mjs --port PORT --admin KEY [--sales KEY] --record DIR [--seed N] [--cases N] [--protect ids]');
  process.exit(2);
}
const base = `http://127.0.0.1:${args.port}`;
const seed = Number(args.seed ?? 1);
const cases = Number(args.cases ?? 1500);
const protectedIds = new Set((args.protect ?? '').split(',').filter(Boolean));

// mulberry32: small, seedable, good enough to pick among choices.
let state = seed >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const chance = (p) => random() < p;
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
const pick = (items) => items[Math.floor(random() * items.length)];

const documentText = await (await fetch(`${base}/v1/openapi.json`)).text();
const doc = JSON.parse(documentText);
const documentHash = crypto.createHash('sha256').update(documentText).digest('hex').slice(0, 16);
fs.mkdirSync(path.join(args.record, 'documents'), { recursive: true });
fs.writeFileSync(path.join(args.record, 'documents', `${documentHash}.json`), documentText);
const exchangeFile = path.join(args.record, `exchanges.fuzz-${seed}.jsonl`);
fs.writeFileSync(exchangeFile, '');

function resolve(node) {
  while (node && node.$ref) node = node.$ref.slice(2).split('/').reduce((n, p) => n[p.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  return node;
}

// Ids seen in answers, by prefix ("acc", "con", …): what later cases' paths and fields name.
const ids = new Map();
function harvest(value) {
  if (typeof value === 'string') {
    const m = /^([a-z]+)_[0-9a-z]{26}$/.exec(value);
    if (m && !protectedIds.has(value)) {
      if (!ids.has(m[1])) ids.set(m[1], []);
      const known = ids.get(m[1]);
      if (!known.includes(value) && known.length < 50) known.push(value);
    }
  } else if (Array.isArray(value)) value.forEach(harvest);
  else if (value && typeof value === 'object') Object.values(value).forEach(harvest);
}
const idAlphabet = '0123456789abcdefghjkmnpqrstvwxyz';
const randomId = (prefix) => `${prefix}_01m9${Array.from({ length: 22 }, () => pick([...idAlphabet])).join('')}`;
function idFor(prefix) {
  const known = ids.get(prefix);
  return known && known.length && chance(0.85) ? pick(known) : randomId(prefix);
}

const words = ['Fazenda Boa Vista', 'Ação', 'São Paulo', 'x', 'Hospital Santa Clara', '=cmd()', '🌱 safra', "O'Brien", '<b>',
  '12.345.678/0001-95', '+55 11 98765-4321', 'ana@hsc.org.br'];
function string(schema) {
  const format = schema.format;
  if (format === 'date-time') return new Date(Date.UTC(2026, int(0, 11), int(1, 28), int(0, 23))).toISOString();
  if (format === 'date') return `2026-${String(int(1, 12)).padStart(2, '0')}-${String(int(1, 28)).padStart(2, '0')}`;
  if (format === 'email') return `fuzz${int(0, 9999)}@example.com`;
  if (format === 'uri') return pick(['https://hooks.example.com/nucleo', 'http://127.0.0.1:9/x', 'not a uri']);
  const prefixed = schema.pattern && /^\^([a-z]+)_/.exec(schema.pattern);
  if (prefixed) return idFor(prefixed[1]);
  let text = pick(words);
  if (chance(0.3)) text += ` ${int(0, 99999)}`;
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? 200;
  while (text.length < min) text += 'a';
  return text.slice(0, Math.max(min, Math.min(max, text.length)));
}

function generate(node, depth = 0) {
  const schema = resolve(node);
  if (!schema || depth > 6) return null;
  if ('const' in schema) return schema.const;
  if (schema.enum) return pick(schema.enum);
  if (schema.oneOf || schema.anyOf) return generate(pick(schema.oneOf || schema.anyOf), depth + 1);
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((s) => generate(s, depth + 1)).filter((v) => v && typeof v === 'object'));
  let type = Array.isArray(schema.type) ? pick(schema.type) : schema.type;
  if (!type) type = schema.properties ? 'object' : schema.items ? 'array' : 'string';
  switch (type) {
    case 'null': return null;
    case 'boolean': return chance(0.5);
    case 'integer':
    case 'number': {
      const lo = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 0);
      const hi = Math.min(schema.maximum ?? lo + 1000, lo + 1000);
      return int(lo, hi);
    }
    case 'array': {
      const min = schema.minItems ?? 0;
      const n = int(min, Math.min(schema.maxItems ?? min + 3, min + 3));
      return Array.from({ length: n }, () => generate(schema.items, depth + 1));
    }
    case 'object': {
      const out = {};
      const required = new Set(schema.required || []);
      for (const [name, property] of Object.entries(schema.properties || {})) {
        const p = resolve(property);
        if (p && p.readOnly) continue;
        if (required.has(name) || chance(0.4)) out[name] = generate(property, depth + 1);
      }
      return out;
    }
    default: return string(schema);
  }
}

// A valid-looking body made wrong in one way: what a careless or hostile client sends.
function mutate(body, schema) {
  const s = resolve(schema) || {};
  const kind = pick(['drop', 'type', 'unknown', 'broken', 'shape', 'huge']);
  if (kind === 'broken') return pick(['{', '{"a":', '[1,', 'null x', '\u0000']);
  if (kind === 'shape') return JSON.stringify(pick([[], 'text', 42, null, [{}]]));
  if (kind === 'huge') return JSON.stringify({ ...body, [pick(Object.keys(s.properties || { name: 1 }))]: 'x'.repeat(int(300, 5000)) });
  const out = body && typeof body === 'object' && !Array.isArray(body) ? { ...body } : {};
  if (kind === 'drop' && s.required && s.required.length) delete out[pick(s.required)];
  else if (kind === 'type' && Object.keys(out).length) out[pick(Object.keys(out))] = pick([12345, true, [], {}, 'x']);
  else out[`fuzz_${int(0, 99)}`] = 'unexpected';
  return JSON.stringify(out);
}

const operations = [];
for (const [template, item] of Object.entries(doc.paths)) {
  for (const [method, op] of Object.entries(item)) {
    if (method === 'parameters') continue;
    operations.push({ template, method: method.toUpperCase(), op, bearer: Array.isArray(op.security) && op.security.length > 0 });
  }
}

function buildRequest(operation, wellFormed) {
  const { template, op } = operation;
  const params = (op.parameters || []).map(resolve);
  let target = template.replace(/\{([^}]+)\}/g, (_, name) => {
    const p = params.find((x) => x.in === 'path' && x.name === name);
    if (!wellFormed && chance(0.2)) return encodeURIComponent(pick(['x', '..', 'acc_' + 'z'.repeat(26), '%', ' ']));
    if (name === 'type') return pick(['account', 'contact', 'deal', 'nothing']);
    return encodeURIComponent(p ? string(resolve(p.schema) || {}) : 'x');
  });
  const query = new URLSearchParams();
  for (const p of params.filter((x) => x.in === 'query')) {
    if (!p.required && !chance(0.3)) continue;
    let value = generate(p.schema);
    if (!wellFormed && chance(0.2)) value = pick(['abc', '-1', '', '99999999999999999999']);
    query.append(p.name, String(value));
  }
  if (!wellFormed && chance(0.1)) query.append(`fuzz_${int(0, 9)}`, '1');
  const headers = { Accept: 'application/json' };
  let body = '';
  const requestBody = resolve(op.requestBody);
  const json = requestBody && requestBody.content && requestBody.content['application/json'];
  if (json) {
    const value = generate(json.schema);
    body = !wellFormed && chance(0.5) ? mutate(value, json.schema) : JSON.stringify(value);
    headers['Content-Type'] = 'application/json';
  }
  if (operation.method === 'POST' && chance(0.3)) headers['Idempotency-Key'] = `fuzz-${seed}-${int(0, 40)}`;
  const qs = query.toString();
  return { path: target + (qs ? `?${qs}` : ''), headers, body };
}

const callers = [
  { name: 'admin', weight: 0.65, key: args.admin },
  { name: 'sales', weight: 0.2, key: args.sales },
  { name: 'none', weight: 0.08, key: null },
  { name: 'wrong key', weight: 0.07, key: `nuc_01m9zzzzzzzzzzzzzzzzzzzzzz_${'a'.repeat(64)}` },
].filter((c) => c.name !== 'sales' || c.key);
function pickCaller() {
  const total = callers.reduce((t, c) => t + c.weight, 0);
  let r = random() * total;
  for (const c of callers) if ((r -= c.weight) < 0) return c;
  return callers[0];
}

const failures = [];
const statuses = new Map();
const exercised = new Set();
for (let n = 0; n < cases; n++) {
  const operation = pick(operations);
  const caller = pickCaller();
  const unauthenticated = caller.key === null || caller.name === 'wrong key';
  // A request whose caller has no valid key is kept well formed: the answer must be 401,
  // not a 400 the target's shape would earn first.
  const request = buildRequest(operation, unauthenticated || chance(0.6));
  if (caller.key) request.headers.Authorization = `Bearer ${caller.key}`;
  const touchesProtected = [...protectedIds].some((id) => request.path.includes(id)) && operation.method !== 'GET';
  if (touchesProtected) continue;
  let response;
  try {
    const r = await fetch(base + request.path, {
      method: operation.method,
      headers: request.headers,
      body: request.body === '' ? undefined : request.body,
      signal: AbortSignal.timeout(30000),
    });
    response = { status: r.status, headers: Object.fromEntries(r.headers.entries()), body: await r.text() };
  } catch (e) {
    failures.push(`case ${n}: ${operation.method} ${request.path} as ${caller.name}: no answer (${e.message})`);
    continue;
  }
  exercised.add(`${operation.method} ${operation.template}`);
  statuses.set(response.status, (statuses.get(response.status) || 0) + 1);
  fs.appendFileSync(exchangeFile, JSON.stringify({
    document: documentHash,
    test: `api fuzz seed ${seed} case ${n} as ${caller.name}`,
    request: { method: operation.method, path: request.path, headers: request.headers, body: request.body },
    response,
  }) + '\n');
  const where = `case ${n}: ${operation.method} ${request.path} as ${caller.name} → ${response.status}`;
  if (response.status >= 500) failures.push(`${where}: a server error: ${response.body.slice(0, 300)}`);
  if (operation.bearer && unauthenticated && response.status !== 401)
    failures.push(`${where}: authentication ignored (expected 401): ${response.body.slice(0, 200)}`);
  if (response.status < 300 && response.headers['content-type']?.includes('json')) {
    try {
      harvest(JSON.parse(response.body));
    } catch {
      // check.mjs reports a body that is not JSON
    }
  }
}

const summary = [...statuses.entries()].sort((a, b) => a[0] - b[0]).map(([s, c]) => `${s}×${c}`).join(' ');
console.log(`api fuzz: seed ${seed}, ${cases} cases, ${exercised.size} of ${operations.length} operations exercised; ` +
  `statuses ${summary}; ${failures.length} failures`);
for (const f of failures.slice(0, 50)) console.log(`FAILURE ${f}`);
process.exit(failures.length > 0 ? 1 : 0);
