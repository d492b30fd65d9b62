#!/usr/bin/env node
// Validates FHIR R4 resources against the published FHIR R4 JSON Schema (hl7.org's
// fhir.schema.json, as @asymmetrik/fhir-json-schema-validator packages it). Each argument
// is a file holding one resource or Bundle (JSON) or one resource per line (NDJSON); a
// Bundle's entries are validated one by one too. Prints one line per invalid resource and
// the totals; exits 1 when any is invalid.
//   node tests/tools/fhir-validate.cjs bundle.json export.ndjson
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');
// The tools scripts/test.sh installs: build/tools, or NUCLEO_TOOLS.
const tools = createRequire(path.resolve(process.env.NUCLEO_TOOLS || 'build/tools', 'node_modules', 'x.js'));
const Validator = tools('@asymmetrik/fhir-json-schema-validator');

const validator = new Validator();
let checked = 0, invalid = 0;
function check(resource, where) {
  checked += 1;
  const errors = validator.validate(resource);
  if (errors.length > 0) {
    invalid += 1;
    console.log(`${where}: ${resource.resourceType}/${resource.id} is invalid: ${JSON.stringify(errors).slice(0, 600)}`);
  }
  if (resource.resourceType === 'Bundle')
    (resource.entry || []).forEach((e, i) => check(e.resource, `${where} entry ${i}`));
}
for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.ndjson'))
    text.split('\n').filter((l) => l.trim()).forEach((line, i) => check(JSON.parse(line), `${file}:${i + 1}`));
  else
    check(JSON.parse(text), file);
}
console.log(`checked=${checked} invalid=${invalid}`);
process.exit(invalid > 0 ? 1 : 0);
