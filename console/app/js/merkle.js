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
