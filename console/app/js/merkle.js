// @ts-check
// Checking the audit log's proofs in the browser, with nothing but WebCrypto: an
// event's leaf hash from its canonical bytes (RFC 8785 JSON canonicalisation), and its
// inclusion proof up to a tree root (RFC 9162 §2.1.3.2) — the same checks as
// `nucleo audit verify-inclusion`, so a compliance officer need not trust the page's
// server for them.

/**
 * RFC 8785 canonical JSON: object members sorted by their names' UTF-16 code units,
 * no whitespace; numbers and strings as ECMAScript's JSON.stringify writes them (which
 * is what RFC 8785 specifies).
 * @param {unknown} value
 * @returns {string}
 */
export function canonicalJson(value) {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** @param {Uint8Array} bytes */
async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes)));
}

/** @param {...Uint8Array} parts */
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** @param {string} text */
export function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** @param {Uint8Array} bytes */
export function toBase64(bytes) {
  return btoa(String.fromCharCode(...bytes));
}

/**
 * SHA-256(0x00 ‖ canonical bytes of the leaf), base64.
 * @param {unknown} leaf
 */
export async function leafHash(leaf) {
  const bytes = new TextEncoder().encode(canonicalJson(leaf));
  return toBase64(await sha256(concat(Uint8Array.of(0), bytes)));
}

/**
 * The root an inclusion proof leads to from a leaf hash (RFC 9162 §2.1.3.2), or null when
 * the proof cannot be one for this index and size.
 * @param {number} leafIndex
 * @param {number} treeSize
 * @param {string} leafHashBase64
 * @param {string[]} proof base64 hashes
 */
export async function rootFromInclusionProof(leafIndex, treeSize, leafHashBase64, proof) {
  if (leafIndex >= treeSize) return null;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = fromBase64(leafHashBase64);
  for (const p of proof.map(fromBase64)) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(concat(Uint8Array.of(1), p, r));
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await sha256(concat(Uint8Array.of(1), r, p));
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? toBase64(r) : null;
}

/**
 * A C2SP signed note's body: origin, tree size and root (its signature lines follow a
 * blank line).
 * @param {string} note
 */
export function parseCheckpoint(note) {
  const [origin = "", size = "", root = ""] = note.split("\n");
  const treeSize = Number(size);
  if (!origin || !Number.isSafeInteger(treeSize) || !root) return null;
  return { origin, treeSize, root };
}

/**
 * A verifier key as `nucleo audit keygen` writes it: `<name>+<key id hex>+<base64(0x01 ‖ key)>`.
 * @param {string} text
 */
function parseVkey(text) {
  // The key's base64 may hold "+" itself: only the first two separate.
  const line = text.trim();
  const first = line.indexOf("+"), second = line.indexOf("+", first + 1);
  const [name, idHex, key] = first < 0 || second < 0 ? ["", "", ""]
    : [line.slice(0, first), line.slice(first + 1, second), line.slice(second + 1)];
  const raw = key ? fromBase64(key) : new Uint8Array();
  if (!name || idHex.length !== 8 || raw.length !== 33 || raw[0] !== 1)
    throw new Error("a vkey reads <name>+<8 hex digits>+<base64 of 0x01 and a 32-byte Ed25519 key>");
  const id = Uint8Array.from(idHex.match(/../g) ?? [], (b) => parseInt(b, 16));
  return { name, id, publicKey: raw.slice(1) };
}

/**
 * Whether a C2SP signed note carries a valid Ed25519 signature by the key (WebCrypto).
 * @param {string} note
 * @param {string} vkeyText
 * @returns {Promise<string | null>} null when it verifies, else why not
 */
async function checkNoteSignature(note, vkeyText) {
  const key = parseVkey(vkeyText);
  const blank = note.indexOf("\n\n");
  if (blank < 0) return "not a signed note";
  const body = note.slice(0, blank + 1);
  if (body.split("\n")[0] !== key.name) return `the checkpoint's origin is not the key's name ${key.name}`;
  const prefix = `— ${key.name} `;
  const publicKey = await crypto.subtle.importKey("raw", new Uint8Array(key.publicKey), { name: "Ed25519" }, false, ["verify"]);
  for (const line of note.slice(blank + 2).split("\n")) {
    if (!line.startsWith(prefix)) continue;
    const raw = fromBase64(line.slice(prefix.length));
    if (raw.length !== 68 || raw.slice(0, 4).some((b, i) => b !== key.id[i])) continue;
    const ok = await crypto.subtle.verify("Ed25519", publicKey, new Uint8Array(raw.slice(4)), new TextEncoder().encode(body));
    return ok ? null : "the checkpoint's signature does not verify";
  }
  return `no signature by ${key.name}`;
}

/**
 * A party bundle (a proposal's proof, a regulator export) or a data subject's report,
 * checked as `nucleo audit verify FILE --vkey log.vkey` checks it: every leaf canonical
 * and hashing to its leaf_hash, every proof leading to the checkpoint's root, and — with
 * the log's verifier key — the checkpoint signed by it.
 * @param {unknown} file the parsed JSON
 * @param {string} vkey the verifier key's text, or "" to skip the signature
 * @returns {Promise<{ok: boolean, message: string, proven: number, unproven: number, signed: boolean}>}
 */
export async function verifyPartyBundle(file, vkey) {
  const fail = (/** @type {string} */ message) => ({ ok: false, message, proven: 0, unproven: 0, signed: false });
  /** @type {any} */
  let bundle = file;
  // A data subject's report carries her trail as a party bundle under "audit".
  if (bundle?.format === "nucleo-subject-report") bundle = bundle.audit;
  else if (bundle?.format !== "nucleo-party-bundle")
    return fail("not a party bundle (\"format\": \"nucleo-party-bundle\") or a subject report");
  if (typeof bundle?.checkpoint !== "string" || !Array.isArray(bundle.events))
    return fail("a party bundle has \"checkpoint\" and \"events\"");
  const signedBy = vkey.trim() ? await checkNoteSignature(bundle.checkpoint, vkey).catch((e) => String(e.message ?? e)) : undefined;
  if (typeof signedBy === "string") return fail(`checkpoint: ${signedBy}`);
  const checkpoint = parseCheckpoint(bundle.checkpoint);
  if (!checkpoint) return fail("the checkpoint note is malformed");
  let proven = 0, unproven = 0;
  for (const e of bundle.events) {
    const where = `seq ${e?.seq}`;
    if (typeof e?.leaf !== "string" || !Number.isSafeInteger(e.seq)) return fail(`${where}: an event is {"seq", "leaf", "leaf_hash", "proof"}`);
    let parsed;
    try {
      parsed = JSON.parse(e.leaf);
    } catch {
      return fail(`${where}: the leaf is not JSON`);
    }
    if (canonicalJson(parsed) !== e.leaf) return fail(`${where}: the leaf is not canonical JSON`);
    if (parsed.seq !== e.seq) return fail(`${where}: the leaf names another seq`);
    const hash = toBase64(await sha256(concat(Uint8Array.of(0), new TextEncoder().encode(e.leaf))));
    if (hash !== e.leaf_hash) return fail(`${where}: the leaf does not hash to its leaf_hash`);
    if (e.proof === null || e.proof === undefined) {
      if (e.seq < checkpoint.treeSize) return fail(`${where}: no proof, though the checkpoint covers it`);
      ++unproven;
      continue;
    }
    const root = await rootFromInclusionProof(e.seq, checkpoint.treeSize, hash, e.proof);
    if (root !== checkpoint.root) return fail(`${where}: its proof does not lead to the checkpoint's root — altered, or not in this log`);
    ++proven;
  }
  return { ok: true, message: `${proven}/${checkpoint.treeSize}`, proven, unproven, signed: signedBy === null };
}
