// The console's in-browser proof checks (console/app/js/merkle.js) under Node's WebCrypto,
// on inputs built here: RFC 8785 canonical JSON, RFC 9162 inclusion proofs against a
// tree computed independently, and a party bundle whose checkpoint is signed by a fresh
// Ed25519 key — one whose base64 holds "+" (the vkey's separator), which the first
// parser split wrongly.   node merkle_test.mjs CONSOLE_JS_DIR
import { pathToFileURL } from "node:url";

const dir = process.argv[2];
const { canonicalJson, leafHash, rootFromInclusionProof, toBase64, verifyPartyBundle } =
  await import(pathToFileURL(`${dir}/merkle.js`).href);

function check(condition, what) {
  if (!condition) throw new Error(`merkle check failed: ${what}`);
  console.log(`ok - ${what}`);
}

const sha = async (...parts) => {
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) bytes.set(p, at), (at += p.length);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
};
const text = (s) => new TextEncoder().encode(s);

check(canonicalJson({ b: 1, a: [true, null, "é\n"], "€": 1.5, A: { z: 0, y: -0.25 } }) ===
      '{"A":{"y":-0.25,"z":0},"a":[true,null,"é\\n"],"b":1,"€":1.5}', "canonical JSON sorts members and writes numbers as RFC 8785");

// A tree of 7 leaves computed the plain recursive way (RFC 9162 §2.1.1).
const leaves = await Promise.all([...Array(7).keys()].map((i) => sha(Uint8Array.of(0), text(`{"seq":${i}}`))));
async function root(hashes) {
  if (hashes.length === 1) return hashes[0];
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return sha(Uint8Array.of(1), await root(hashes.slice(0, k)), await root(hashes.slice(k)));
}
async function path(index, hashes) {
  if (hashes.length === 1) return [];
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return index < k ? [...(await path(index, hashes.slice(0, k))), await root(hashes.slice(k))]
                   : [...(await path(index - k, hashes.slice(k))), await root(hashes.slice(0, k))];
}
const expected = toBase64(await root(leaves));
let all = true;
for (let i = 0; i < 7; ++i) {
  const proof = (await path(i, leaves)).map(toBase64);
  all &&= (await rootFromInclusionProof(i, 7, toBase64(leaves[i]), proof)) === expected;
  all &&= (await rootFromInclusionProof(i, 7, toBase64(leaves[(i + 1) % 7]), proof)) !== expected;
}
check(all, "every inclusion proof of a 7-leaf tree leads to its root, and not from another leaf");
check((await leafHash({ seq: 3 })) === toBase64(leaves[3]), "a leaf hashes as SHA-256(0x00 ‖ its canonical bytes)");

// A signed party bundle of one event, the key chosen so its base64 holds a "+".
let keys, publicKey, encoded;
do {
  keys = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
  encoded = toBase64(Uint8Array.of(1, ...publicKey));
} while (!encoded.includes("+"));
const name = "crm.example.com/nucleo/ten_01m95agazgefw86420a2n3cq41";
const keyId = (await sha(text(`${name}\n`), Uint8Array.of(1), publicKey)).slice(0, 4);
const vkey = `${name}+${[...keyId].map((b) => b.toString(16).padStart(2, "0")).join("")}+${encoded}`;
const leaf = canonicalJson({ action: "proposal.accepted", seq: 0 });
const leafHashText = await leafHash(JSON.parse(leaf));
const body = `${name}\n1\n${leafHashText}\n`;
const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", keys.privateKey, text(body)));
const bundle = { format: "nucleo-party-bundle", tree_size: 1, checkpoint: `${body}\n— ${name} ${toBase64(Uint8Array.of(...keyId, ...signature))}\n`,
                 events: [{ seq: 0, leaf, leaf_hash: leafHashText, proof: [] }] };
const good = await verifyPartyBundle(bundle, vkey);
check(good.ok && good.signed && good.proven === 1, `a bundle signed by a key whose base64 holds "+" verifies (${good.message})`);
const forged = structuredClone(bundle);
forged.events[0].leaf = canonicalJson({ action: "proposal.declined", seq: 0 });
check(!(await verifyPartyBundle(forged, vkey)).ok, "an altered leaf fails");
const otherKey = vkey.replace(/\+([0-9a-f]{8})\+/, "+00000000+");
check(!(await verifyPartyBundle(bundle, otherKey)).ok, "a vkey whose id does not match finds no signature");
