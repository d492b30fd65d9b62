// Proposals' own routes (docs/proposals.md): sending, discount approvals, frozen
// versions, previews, public links and their page, and the acceptance proof. The
// proposal and its templates themselves: the generic protocol (record_routes).
#include "kernel/http/proposal_routes.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/HTTPRequest.h>

#include <sstream>

#include "kernel/documents/proposal_render.hpp"
#include "kernel/domain/html_text.hpp"
#include "kernel/http/request_checks.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/proposal_service.hpp"

namespace nucleo::http {
namespace {

const Json text = {{"type", "string"}};
const Json nullable_text = {{"type", {"string", "null"}}};
const Json time_value = {{"type", "string"}, {"format", "date-time"}};
const Json nullable_time = {{"type", {"string", "null"}}, {"format", "date-time"}};

Json link_schema() {
  return {{"type", "object"},
          {"required", {"id", "revision", "url", "path", "expires_at", "revoked_at", "view_count"}},
          {"properties",
           {{"id", text},
            {"revision", {{"type", "integer"}}},
            {"url", {{"type", {"string", "null"}}, {"description", "the link at http.public_url (null when not set)"}}},
            {"path", text},
            {"expires_at", time_value},
            {"revoked_at", nullable_time},
            {"view_count", {{"type", "integer"}}},
            {"first_viewed_at", nullable_time},
            {"last_viewed_at", nullable_time}}},
          {"additionalProperties", false}};
}

Json version_schema() {
  return {{"type", "object"},
          {"required", {"revision", "pdf_sha256", "frozen_at"}},
          {"properties",
           {{"revision", {{"type", "integer"}}},
            {"pdf_sha256", {{"type", "string"}, {"pattern", "^[0-9a-f]{64}$"}}},
            {"frozen_at", time_value},
            {"frozen_by", text}}},
          {"additionalProperties", false}};
}

Json sent_schema() {
  return {{"type", "object"},
          {"required", {"proposal", "version", "link", "message"}},
          {"properties",
           {{"proposal", {{"$ref", "#/components/schemas/Proposal"}}},
            {"version", version_schema()},
            {"link", link_schema()},
            {"message", {{"type", {"object", "null"}}, {"description", "the channel message's interaction"}}}}},
          {"additionalProperties", false}};
}

Json decided_schema() {
  return {{"type", "object"},
          {"required", {"status", "decided_revision", "decided_sha256"}},
          {"properties",
           {{"status", {{"type", "string"}, {"enum", {"accepted", "declined"}}}},
            {"decided_revision", {{"type", "integer"}}},
            {"decided_sha256", text},
            {"deal_move", {{"type", "object"}}}}},
          {"additionalProperties", false}};
}

ApiResponse file_response(const services::ProposalFile& file, bool download) {
  ApiResponse r;
  r.content_type = file.content_type;
  r.raw_body = file.body;
  if (download) r.headers["Content-Disposition"] = "attachment; filename=\"" + file.filename + "\"";
  return r;
}

// What a page a customer opens may do: show itself, its inline styles and data: images,
// post its form back here. No scripts, no frames, no referrer (the link is the secret).
void harden_public(ApiResponse& r) {
  r.headers["Content-Security-Policy"] =
      "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; "
      "base-uri 'none'";
  r.headers["Referrer-Policy"] = "no-referrer";
  r.headers["Cache-Control"] = "no-store";
  r.headers["X-Content-Type-Options"] = "nosniff";
}

std::string format_of(const ApiRequest& req, const std::string& fallback) {
  return req.query.count("format") ? req.query.at("format") : fallback;
}

// A form's fields (application/x-www-form-urlencoded) as a JSON object of strings, read
// by Poco's HTMLForm as uploads are (import_routes).
Json form_fields(const ApiRequest& req) {
  Poco::Net::HTTPRequest head(Poco::Net::HTTPRequest::HTTP_POST, req.path);
  head.setContentType(req.header("Content-Type"));
  std::istringstream body(req.body);
  Poco::Net::HTMLForm form;
  form.setFieldLimit(10);
  try {
    form.load(head, body);
  } catch (const Poco::Exception& e) {
    throw BadRequest("the body is not a URL-encoded form: " + e.displayText());
  }
  Json out = Json::object();
  for (const auto& [name, value] : form) out[name] = value;
  return out;
}

bool is_form(const ApiRequest& req) {
  return req.header("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0;
}

std::string decided_page(const Json& answer) {
  bool accepted = answer.value("status", "") == "accepted";
  std::string title = accepted ? "Proposta aceita" : "Proposta recusada";
  std::string message = accepted ? "Obrigado! Registramos o seu aceite da versão " + answer["decided_revision"].dump() +
                                       " desta proposta (SHA-256 do documento: " +
                                       answer["decided_sha256"].get<std::string>() + ")."
                                 : "Registramos a sua recusa. Obrigado pela atenção.";
  return "<!DOCTYPE html>\n<html lang=\"pt-BR\"><head><meta charset=\"utf-8\"><title>" + title +
         "</title></head><body style=\"font-family: sans-serif; max-width: 640px; margin: 48px auto\"><h1>" + title +
         "</h1><p>" + html_escape(message) + "</p></body></html>\n";
}

void add_public_routes(Router& router, services::ServiceDependencies deps) {
  Route page{"GET", "/v1/public/proposals/{token}", "view_proposal_page",
                        "The proposal a public link opens, in a browser, with the form to accept or decline it "
                        "(no credential: the signed link is the authority; each view is counted)",
                        AuthMode::none, "", "document", {},
                        [=](ApiRequest& req) {
                          auto page = services::ProposalService(deps).page(req.ctx, req.params.at("token"));
                          // A browser gets a page saying why; any other client the usual problem.
                          if (page.status != 200 && req.header("Accept").find("text/html") == std::string::npos)
                            throw Error(ErrorCode::not_found, page.refusal);
                          ApiResponse r;
                          r.status = page.status;
                          r.content_type = "text/html; charset=utf-8";
                          r.raw_body = page.html;
                          harden_public(r);
                          return r;
                        }};
  page.html_not_found = true;
  router.add(answering(page, 200, text, {"text/html"}), Access::of_anyone());
  router.add(answering({"GET", "/v1/public/proposals/{token}/pdf", "download_proposal_pdf",
                        "The PDF of the proposal revision a public link opens (no credential)", AuthMode::none, "",
                        "export", {},
                        [=](ApiRequest& req) {
                          auto r = file_response(
                              services::ProposalService(deps).public_pdf(req.ctx, req.params.at("token")), true);
                          harden_public(r);
                          return r;
                        }},
                       200, text, {"application/pdf"}),
             Access::of_anyone());
  Route decide{"POST", "/v1/public/proposals/{token}/decision", "decide_proposal",
               "The customer accepts or declines the revision a public link opens, typing her name (and what the "
               "template asks: cpf, role); recorded with the revision and its PDF's SHA-256. A form post answers "
               "a page, JSON answers JSON.",
               AuthMode::none, "", "document", {},
               [=](ApiRequest& req) {
                 Json form = is_form(req) ? form_fields(req) : req.json_object();
                 Json answer = services::ProposalService(deps).decide(req.ctx, req.params.at("token"), form);
                 ApiResponse r;
                 if (is_form(req)) {
                   r.content_type = "text/html; charset=utf-8";
                   r.raw_body = decided_page(answer);
                   harden_public(r);
                 } else {
                   r.body = answer;
                 }
                 return r;
               }};
  decide.raw_request_types = {"application/x-www-form-urlencoded", "application/json"};
  decide.raw_request_limit = 16 * 1024;
  decide.extra_problems = {409};  // decided, superseded or expired
  router.add(answering(decide, 200, decided_schema(), {"application/json", "text/html"}), Access::of_anyone());
}

}  // namespace

void add_proposal_routes(Router& router, services::ServiceDependencies deps, events::JobQueue* jobs,
                         services::ConversationService::ChannelKinds channel_traits) {
  const EntitySpec& spec = entity_spec("proposal");
  router.add(honouring_if_match(answering(
                 {"POST", "/v1/proposals/{id}/send", "send_proposal",
                  "Freeze the current revision (its PDF's SHA-256 kept), issue a public link and, with "
                  "channel_account_id, send it to the contact (e-mail: the PDF attached); recorded on the deal",
                  AuthMode::bearer, "", "proposal_send", {},
                  [=](ApiRequest& req) {
                    ApiResponse r;
                    r.body = services::ProposalService(deps).send(req.ctx, req.params.at("id"), req.json_object(),
                                                                  expected_version(req), {jobs, channel_traits});
                    return r;
                  },
                  {{"type", "object"},
                   {"properties",
                    {{"link_days", {{"type", "integer"}, {"minimum", 1}, {"maximum", 365}}},
                     {"channel_account_id", text},
                     {"contact_id", {{"type", "string"}, {"description", "the recipient; default: the proposal's contact"}}},
                     {"message", {{"type", "string"}, {"maxLength", 10000}}},
                     {"purpose", {{"type", "string"}, {"description", "the consent purpose the message is for (as a message's)"}}}}},
                   {"additionalProperties", false}}},
                 200, sent_schema())),
             access_to_change(spec));
  router.add({"POST", "/v1/proposals/{id}/approvals", "approve_proposal_discount",
              "Approve the current revision's discounts (a user whose own limit covers them, not the proposal's owner)",
              AuthMode::bearer, "proposal", "action", {},
              [=](ApiRequest& req) {
                return write_response(
                    services::ProposalService(deps).approve(req.ctx, req.params.at("id"), req.json_object(),
                                                            expected_version(req)));
              },
              {{"type", "object"},
               {"properties", {{"note", {{"type", "string"}, {"maxLength", 1000}}}}},
               {"additionalProperties", false}}},
             access_to_change(spec));
  router.add(answering({"GET", "/v1/proposals/{id}/versions", "list_proposal_versions",
                        "The sent (frozen) revisions, oldest first, each with its PDF's SHA-256", AuthMode::bearer, "",
                        "proposal_versions", {},
                        [=](ApiRequest& req) {
                          ApiResponse r;
                          r.body = {{"data", array_of(services::ProposalService(deps).versions(req.ctx, req.params.at("id")))}};
                          return r;
                        }},
                       200, list_schema(version_schema())),
             access_to_read(spec));
  router.add(answering({"GET", "/v1/proposals/{id}/versions/{revision}", "get_proposal_version",
                        "One sent revision as it was frozen: ?format=pdf (default), html, or json (the document and "
                        "its hash)",
                        AuthMode::bearer, "", "export", {"format"},
                        [=](ApiRequest& req) {
                          std::string format = format_of(req, "pdf");
                          const std::string& revision = req.params.at("revision");
                          if (revision.empty() || revision.size() > 9 ||
                              revision.find_first_not_of("0123456789") != std::string::npos)
                            throw BadRequest("the revision must be a number", {{"revision", "is not a number"}});
                          auto file = services::ProposalService(deps).version_file(req.ctx, req.params.at("id"),
                                                                                   std::stoll(revision), format);
                          if (format != "json") return file_response(file, true);
                          ApiResponse r;
                          r.body = Json::parse(file.body);
                          return r;
                        }},
                       200, nullptr, {"application/pdf", "text/html", "application/json"}),
             access_to_read(spec));
  router.add(answering({"GET", "/v1/proposals/{id}/preview", "preview_proposal",
                        "The current draft rendered (?format=pdf, the default, or html), frozen nowhere",
                        AuthMode::bearer, "", "export", {"format"},
                        [=](ApiRequest& req) {
                          return file_response(
                              services::ProposalService(deps).preview(req.ctx, req.params.at("id"), format_of(req, "pdf")),
                              false);
                        }},
                       200, text, {"application/pdf", "text/html"}),
             access_to_read(spec));
  router.add(answering({"POST", "/v1/proposals/{id}/links", "issue_proposal_link",
                        "Another public link to the latest sent revision ({\"days\"?}; default proposals.link_days)",
                        AuthMode::bearer, "", "proposal_links", {},
                        [=](ApiRequest& req) {
                          ApiResponse r;
                          r.status = 201;
                          r.body = services::ProposalService(deps).issue_link(req.ctx, req.params.at("id"), req.json_object());
                          return r;
                        },
                        {{"type", "object"},
                         {"properties", {{"days", {{"type", "integer"}, {"minimum", 1}, {"maximum", 365}}}}},
                         {"additionalProperties", false}}},
                       201, link_schema()),
             access_to_change(spec));
  router.add(answering({"GET", "/v1/proposals/{id}/links", "list_proposal_links",
                        "The proposal's public links, each with its views (count, first, last)", AuthMode::bearer, "",
                        "proposal_links", {},
                        [=](ApiRequest& req) {
                          ApiResponse r;
                          r.body = {{"data", array_of(services::ProposalService(deps).links(req.ctx, req.params.at("id")))}};
                          return r;
                        }},
                       200, list_schema(link_schema())),
             access_to_read(spec));
  router.add(answering({"POST", "/v1/proposals/{id}/links/{link_id}/revoke", "revoke_proposal_link",
                        "Revoke a public link: it opens nothing from now on", AuthMode::bearer, "", "proposal_links", {},
                        [=](ApiRequest& req) {
                          ApiResponse r;
                          r.body = services::ProposalService(deps).revoke_link(req.ctx, req.params.at("id"),
                                                                               req.params.at("link_id"));
                          return r;
                        }},
                       200, link_schema()),
             access_to_change(spec));
  router.add(answering({"GET", "/v1/proposals/{id}/proof", "prove_proposal",
                        "The proposal's audit trail with inclusion proofs to the newest signed checkpoint — its "
                        "sending and acceptance with the revision and PDF hash — for `nucleo audit verify FILE "
                        "--vkey log.vkey` offline",
                        AuthMode::bearer, "", "proposal_proof", {},
                        [=](ApiRequest& req) {
                          ApiResponse r;
                          r.body = services::ProposalService(deps).proof(req.ctx, req.params.at("id"));
                          return r;
                        }},
                       200, nullptr),
             Access::of_roles({"admin", "auditor"}, "audit:read"));
  add_public_routes(router, deps);
}

}  // namespace nucleo::http
