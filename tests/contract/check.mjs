// Holds every exchange the end-to-end tests recorded to the OpenAPI document of the
// server that answered it (docs/api.md, "The API contract"), with Ajv's JSON Schema
// 2020-12 validator — the dialect OpenAPI 3.1 uses:
//   node tests/contract/check.mjs RECORD_DIR
// RECORD_DIR holds documents/<hash>.json and exchanges.*.jsonl (tests/e2e/api_fixture.cpp).
// A response must have a declared status, media type, body and headers; a request the
// server accepted (2xx) must be one the document allows, so that a generated client can
// send it. Prints each violation with the test that made the exchange; exits 1 on any.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.resolve(process.env.NUCLEO_TOOLS || 'build/tools', 'node_modules', 'x.js'));
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats');

// Headers whose presence the document must declare (the others are HTTP's own).
const API_HEADERS = ['etag', 'location', 'retry-after', 'idempotent-replayed', 'www-authenticate', 'allow',
  'x-request-id', 'content-disposition'];
// Answers the transport gives before any route is chosen (a request it cannot frame, a
// body or head too large, no room): possible on any path.
const TRANSPORT_STATUSES = new Set([400, 413, 431, 503]);

const dir = process.argv[2];
if (!dir || !fs.existsSync(dir)) {
  console.error(`usage: check.mjs RECORD_DIR (no such directory: ${dir}); run the end-to-end tests first`);
  process.exit(2);
}

const documents = new Map();  // hash -> {doc, ajv, id, operations}
function documentOf(hash) {
  if (documents.has(hash)) return documents.get(hash);
  const doc = JSON.parse(fs.readFileSync(path.join(dir, 'documents', `${hash}.json`), 'utf8'));
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  // Nucleo's own formats (domain/value_schema): the server checks them; here they are
  // annotations, as JSON Schema allows for formats a validator does not know.
  for (const name of ['cpf', 'cnpj', 'phone', 'gtin', 'gln']) ajv.addFormat(name, true);
  const id = `https://nucleo.invalid/openapi/${hash}`;
  ajv.addSchema(doc, id);
  const operations = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    const names = [];
    const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_, name) => {
      names.push(name);
      return '([^/]+)';
    });
    operations.push({ template, item, names, regex: new RegExp(`^${pattern}$`), literal: names.length });
  }
  // A literal segment beats a parameter, as in the server's router.
  operations.sort((a, b) => a.literal - b.literal);
  const entry = { doc, ajv, id, operations, validators: new Map() };
  documents.set(hash, entry);
  return entry;
}

const pointer = (parts) => '#' + parts.map((p) => '/' + encodeURIComponent(String(p).replace(/~/g, '~0').replace(/\//g, '~1'))).join('');

function validator(entry, parts) {
  const key = parts.join('\u0000');
  if (!entry.validators.has(key)) entry.validators.set(key, entry.ajv.compile({ $ref: entry.id + pointer(parts) }));
  return entry.validators.get(key);
}

function resolve(doc, node) {
  while (node && node.$ref) {
    node = node.$ref.slice(2).split('/').reduce((n, p) => n[p.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  }
  return node;
}

// The pointer of a $ref'd node, or of `parts` when inline.
function partsOf(node, parts) {
  return node && node.$ref ? node.$ref.slice(2).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')) : parts;
}

const lower = (headers) => Object.fromEntries(Object.entries(headers || {}).map(([k, v]) => [k.toLowerCase(), v]));
const mediaType = (value) => (value || '').split(';')[0].trim().toLowerCase();
const isJson = (type) => type === 'application/json' || type.endsWith('+json');
const errorsOf = (validate) => validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}${e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : ''}${e.params && e.params.allowedValues ? ` ${JSON.stringify(e.params.allowedValues)}` : ''}`).join('; ');

function checkBody(entry, parts, type, body, what, problems) {
  if (!isJson(type)) return;
  let value;
  try {
    value = JSON.parse(body.replace(/^\uFEFF/, ''));  // a parser may ignore a BOM (RFC 8259 §8.1)
  } catch {
    problems.push(`${what} is not JSON`);
    return;
  }
  const validate = validator(entry, parts);
  if (!validate(value)) problems.push(`${what} violates its schema: ${errorsOf(validate)}`);
}

function checkResponse(entry, opParts, op, ex, problems) {
  const { doc } = entry;
  const status = String(ex.response.status);
  const declaredAs = op.responses[status] ? status : op.responses.default ? 'default' : null;
  if (!declaredAs) {
    problems.push(`status ${status} is not declared`);
    return;
  }
  const response = resolve(doc, op.responses[declaredAs]);
  const parts = partsOf(op.responses[declaredAs], [...opParts, 'responses', declaredAs]);
  const headers = lower(ex.response.headers);
  const declared = Object.fromEntries(Object.entries(response.headers || {}).map(([k, v]) => [k.toLowerCase(), resolve(doc, v)]));
  for (const name of API_HEADERS) {
    if (headers[name] !== undefined && !declared[name]) problems.push(`header ${name} is sent but not declared`);
  }
  for (const [name, header] of Object.entries(declared)) {
    if (header.required && headers[name] === undefined) problems.push(`required header ${name} is missing`);
    if (headers[name] !== undefined && header.schema && header.schema.type === 'integer' && !/^\d+$/.test(headers[name]))
      problems.push(`header ${name} is not an integer: ${headers[name]}`);
  }
  const content = response.content || {};
  const body = ex.response.body || '';
  if (Object.keys(content).length === 0) {
    if (body.length > 0 && declaredAs !== 'default') problems.push('a body is sent where none is declared');
    return;
  }
  const type = mediaType(headers['content-type']);
  if (!content[type]) {
    problems.push(`media type ${type || '(none)'} is not declared (declared: ${Object.keys(content).join(', ')})`);
    return;
  }
  const schemaParts = partsOf(response, parts).concat(['content', type, 'schema']);
  checkBody(entry, schemaParts, type, body, `the ${status} body`, problems);
}

function coerce(schema, value) {
  if (schema && schema.type === 'integer' && /^-?\d+$/.test(value)) return Number(value);
  return value;
}

// A request the server accepted must be one the document allows.
function checkRequest(entry, opParts, op, params, ex, problems) {
  const { doc, ajv } = entry;
  const url = new URL(ex.request.path, 'http://host');
  const declared = (op.parameters || []).map((p) => resolve(doc, p));
  const check = (p, value, where) => {
    if (!p.schema) return;
    const validate = ajv.compile(p.schema);
    if (!validate(coerce(p.schema, value))) problems.push(`${where} ${p.name}=${value} violates its schema: ${errorsOf(validate)}`);
  };
  // A plugin's route it did not describe takes every query parameter (x-nucleo-free-form).
  for (const [name, value] of op['x-nucleo-free-form'] ? [] : url.searchParams) {
    const p = declared.find((d) => d.in === 'query' && d.name === name);
    if (!p) problems.push(`query parameter ${name} is accepted but not declared`);
    else check(p, value, 'query parameter');
  }
  for (const p of declared.filter((d) => d.in === 'query' && d.required && !url.searchParams.has(d.name)))
    problems.push(`required query parameter ${p.name} was not sent`);
  for (const p of declared.filter((d) => d.in === 'path')) check(p, decodeURIComponent(params[p.name] ?? ''), 'path parameter');
  const headers = lower(ex.request.headers);
  for (const p of declared.filter((d) => d.in === 'header')) {
    if (headers[p.name.toLowerCase()] !== undefined) check(p, headers[p.name.toLowerCase()], 'header');
    else if (p.required) problems.push(`required header ${p.name} was not sent`);
  }
  const body = ex.request.body || '';
  const requestBody = resolve(doc, op.requestBody);
  if (!requestBody) {
    if (body.length > 0) problems.push('a request body is accepted where none is declared');
    return;
  }
  if (body.length === 0) {
    if (requestBody.required) problems.push('a request without its required body is accepted');
    return;
  }
  const type = requestBody.content['*/*'] ? '*/*' : mediaType(headers['content-type']);
  if (!requestBody.content[type]) {
    problems.push(`request media type ${type || '(none)'} is accepted but not declared`);
    return;
  }
  const parts = partsOf(op.requestBody, [...opParts, 'requestBody']).concat(['content', type, 'schema']);
  checkBody(entry, parts, type, body, 'the request body', problems);
}

function checkExchange(ex) {
  const entry = documentOf(ex.document);
  const problems = [];
  const url = new URL(ex.request.path, 'http://host');
  const method = ex.request.method.toLowerCase();
  const status = ex.response.status;
  const found = entry.operations.find((o) => o.regex.test(url.pathname));
  if (!found) {
    if (status !== 404 && !TRANSPORT_STATUSES.has(status)) problems.push(`undocumented path answered ${status}, not 404`);
    return { key: `(undocumented path) ${ex.request.method} ${url.pathname}`, problems };
  }
  const op = found.item[method];
  const key = `${ex.request.method} ${found.template}`;
  if (!op) {
    const allow = lower(ex.response.headers).allow;
    if (status === 405) {
      const expected = Object.keys(found.item).filter((m) => m !== 'parameters').map((m) => m.toUpperCase()).sort();
      const got = (allow || '').split(',').map((m) => m.trim()).filter((m) => m && m !== 'HEAD').sort();
      if (JSON.stringify(got) !== JSON.stringify(expected)) problems.push(`Allow: ${allow} but the document has ${expected}`);
    } else if (!TRANSPORT_STATUSES.has(status)) {
      problems.push(`undocumented method answered ${status}, not 405`);
    }
    return { key, problems };
  }
  const match = found.regex.exec(url.pathname);
  const params = Object.fromEntries(found.names.map((n, i) => [n, match[i + 1]]));
  const opParts = ['paths', found.template, method];
  checkResponse(entry, opParts, op, ex, problems);
  if (status >= 200 && status < 300) checkRequest(entry, opParts, op, params, ex, problems);
  return { key, problems };
}

let exchanges = 0;
let violations = 0;
const covered = new Set();
const files = fs.readdirSync(dir).filter((f) => f.startsWith('exchanges.') && f.endsWith('.jsonl')).sort();
for (const file of files) {
  for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
    if (!line) continue;
    const ex = JSON.parse(line);
    exchanges++;
    const { key, problems } = checkExchange(ex);
    covered.add(key);
    for (const p of problems) {
      violations++;
      if (violations <= 200) console.log(`VIOLATION ${key} → ${ex.response.status} (${ex.test}): ${p}`);
    }
  }
}
const documented = new Set([...documents.values()].flatMap((e) =>
  e.operations.flatMap((o) => Object.keys(o.item).map((m) => `${m.toUpperCase()} ${o.template}`))));
const exercised = [...documented].filter((k) => covered.has(k));
console.log(`${exchanges} exchanges from ${files.length} test processes against ${documents.size} documents; ` +
  `${exercised.length} of ${documented.size} operations exercised; ${violations} violations`);
if (process.env.CONTRACT_VERBOSE)
  console.log(`not exercised: ${[...documented].filter((k) => !covered.has(k)).join(', ')}`);
if (exchanges === 0) {
  console.error('no exchanges recorded: run the end-to-end tests first (ctest -L sqlite runs them before this check)');
  process.exit(1);
}
process.exit(violations > 0 ? 1 : 0);
