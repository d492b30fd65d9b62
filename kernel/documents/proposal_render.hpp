#pragma once

// A proposal version rendered (docs/proposals.md "Templates"): the tenant's Mustache
// template (kainjow/mustache, ADR 0043) to HTML, and the kernel's own page layout —
// cairo and pango, which shape Portuguese text correctly — to PDF. Both read the same
// frozen document, so the browser page and the PDF never disagree on a figure.
//
// The document (what a version freezes, services/proposal_service.hpp):
//   {"proposal": {"id", "title", "revision", "currency", "lines": [{"description", "unit"?,
//                 "quantity", "unit_price", "discount_percent"? | "discount_amount"?,
//                 "amount", "discount", "total"}], "subtotal", "discount_total", "total",
//                 "valid_until"?, "payment_terms"?, "notes"?, "attributes"},
//    "account": {"legal_name", "trade_name"?, "tax_id"?, "tax_id_kind"?},
//    "deal": {"id", "name"}, "seller": {"name", "email"} | null, "tenant": {"name"},
//    "issued_on": "YYYY-MM-DD",
//    "template": {"id"?, "version"?, "html", "intro", "closing", "logo_png"?: base64}}

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/domain/error.hpp"

namespace nucleo::documents {

using Json = nlohmann::json;

// The kernel's own template, used by a tenant that has none: {"html", "intro", "closing"}.
Json default_proposal_template();

// What a template's tags may name, checked when a template is saved: each problem as
// {field, message}, the field the template's ("html", "intro", "closing").
std::vector<FieldError> proposal_template_problems(const Json& template_fields);

// The values a template sees: money, quantities and dates written for a Brazilian
// reader, lines numbered, `attributes` as the proposal holds them.
Json proposal_view(const Json& document);

// The HTML page of a version: the template's fragment inside the kernel's page (its own
// styles, no scripts). `extra_body` is appended inside <body> (the public page's
// acceptance form), already HTML.
std::string render_proposal_html(const Json& document, const std::string& extra_body = "");

// The PDF: A4, a header with the logo on every page, the line table broken across
// pages with its heading repeated, page numbers "Página i de n".
std::string render_proposal_pdf(const Json& document);

}  // namespace nucleo::documents
