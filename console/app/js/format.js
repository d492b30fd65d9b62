// @ts-check
// Money, dates and numbers as the reader's language writes them: pt-BR writes
// R$ 1.500.000,00 and 02/12/2026. Amounts travel in cents (docs/api.md).
import { language } from "./i18n.js";

const locales = { "pt-BR": "pt-BR", en: "en-US" };

function locale() {
  return locales[language()];
}

/**
 * @param {number | null | undefined} cents
 * @param {string | null} [currency]
 */
export function money(cents, currency) {
  if (cents === null || cents === undefined) return "—";
  return new Intl.NumberFormat(locale(), { style: "currency", currency: currency ?? "BRL" }).format(cents / 100);
}

/**
 * A date (YYYY-MM-DD) or an instant (RFC 3339), as a date on the reader's calendar.
 * @param {string | null | undefined} value
 */
export function date(value) {
  if (!value) return "—";
  // A bare date is a calendar day, not midnight UTC: shown as written.
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const at = day ? new Date(Number(day[1]), Number(day[2]) - 1, Number(day[3])) : new Date(value);
  return new Intl.DateTimeFormat(locale(), { day: "2-digit", month: "2-digit", year: "numeric" }).format(at);
}

/**
 * @param {string | null | undefined} value an RFC 3339 instant
 */
export function dateTime(value) {
  if (!value) return "—";
  return new Intl.DateTimeFormat(locale(), { day: "2-digit", month: "2-digit", year: "numeric",
                                             hour: "2-digit", minute: "2-digit" }).format(new Date(value));
}

/** @param {number} n */
export function count(n) {
  return new Intl.NumberFormat(locale()).format(n);
}

/**
 * Whole days from an instant to now.
 * @param {string | null | undefined} since
 */
export function daysSince(since) {
  if (!since) return null;
  return Math.max(0, Math.floor((Date.now() - new Date(since).getTime()) / 86_400_000));
}

/**
 * What a person types as money ("1.500,50", "1500.5", "R$ 2.000") in cents, or null.
 * @param {string} text
 */
export function parseMoney(text) {
  let t = text.replace(/[^\d.,-]/g, "");
  if (!t) return null;
  const comma = t.lastIndexOf(","), dot = t.lastIndexOf(".");
  // The last separator followed by one or two digits is the decimal one.
  const decimal = Math.max(comma, dot);
  let whole = t, fraction = "";
  if (decimal >= 0 && t.length - decimal - 1 <= 2) {
    whole = t.slice(0, decimal);
    fraction = t.slice(decimal + 1);
  }
  whole = whole.replace(/[.,]/g, "");
  const value = Number(whole || "0") * 100 + Number((fraction + "00").slice(0, 2));
  return Number.isFinite(value) ? value : null;
}

/**
 * A Brazilian tax id as people write it: CNPJ 12.345.678/0001-95 (also the alphanumeric
 * CNPJ of 2026), CPF 123.456.789-09; anything else as stored.
 * @param {string | null | undefined} id
 */
export function taxId(id) {
  if (!id) return "—";
  const cnpj = /^([0-9A-Z]{2})([0-9A-Z]{3})([0-9A-Z]{3})([0-9A-Z]{4})(\d{2})$/.exec(id);
  if (cnpj) return `${cnpj[1]}.${cnpj[2]}.${cnpj[3]}/${cnpj[4]}-${cnpj[5]}`;
  const cpf = /^(\d{3})(\d{3})(\d{3})(\d{2})$/.exec(id);
  return cpf ? `${cpf[1]}.${cpf[2]}.${cpf[3]}-${cpf[4]}` : id;
}
