// Proposals sent, opened and decided (docs/proposals.md).
#include "kernel/services/proposal_service.hpp"

#include <map>
#include <regex>
#include <set>

#include "kernel/documents/money.hpp"
#include "kernel/documents/proposal_pricing.hpp"
#include "kernel/documents/proposal_render.hpp"
#include "kernel/domain/html_text.hpp"
#include "kernel/domain/base64.hpp"
#include "kernel/domain/digest.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/domain/normalise.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/audit_service.hpp"
#include "kernel/services/change.hpp"
#include "kernel/services/write.hpp"
#include "kernel/store/record_table.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

constexpr const char* link_use = "proposal-link";
constexpr std::size_t link_signature_length = 32;  // hex: 128 bits

std::string text_of(const Json& record, const std::string& field) {
  const Json& v = record.is_object() ? record.value(field, Json()) : Json();
  return v.is_string() ? v.get<std::string>() : std::string();
}

std::optional<Json> find(store::Transaction& tx, const std::string& tenant, const std::string& type,
                         const std::string& id) {
  if (id.empty()) return std::nullopt;
  return store::RecordTable(entity_spec(type)).find(tx, tenant, id);
}

// --- the document a revision freezes -----------------------------------------------------

// The template a proposal names, else the tenant's default, else the kernel's own.
Json template_for(store::Transaction& tx, const std::string& tenant, const Json& proposal) {
  std::string id = text_of(proposal, "template_id");
  if (id.empty())
    store::query(tx.session(),
                 "SELECT id FROM proposal_templates WHERE tenant_id = :p0 AND is_default = 1 AND archived_at IS NULL",
                 {tenant}, [&](const store::Row& row) { id = store::required_text(row, 0); });
  auto found = find(tx, tenant, "proposal_template", id);
  Json fallback = documents::default_proposal_template();
  if (!found || !(*found)["archived_at"].is_null()) return fallback;
  Json t = {{"id", (*found)["id"]}, {"version", (*found)["version"]}};
  for (const char* field : {"html", "intro", "closing"})
    t[field] = text_of(*found, field).empty() ? fallback[field] : (*found)[field];
  if (!text_of(*found, "logo_png").empty()) t["logo_png"] = (*found)["logo_png"];
  t["acceptance_fields"] = found->value("acceptance_fields", Json::array());
  return t;
}

Json document_of(store::Transaction& tx, const std::string& tenant, const Json& proposal, Timestamp now) {
  Json deal = find(tx, tenant, "deal", text_of(proposal, "deal_id")).value_or(Json::object());
  Json account = find(tx, tenant, "account", text_of(deal, "account_id")).value_or(Json::object());
  auto seller = find(tx, tenant, "user", text_of(proposal, "owner_id"));
  std::string tenant_name;
  store::query(tx.session(), "SELECT name FROM tenants WHERE id = :p0", {tenant},
               [&](const store::Row& row) { tenant_name = store::required_text(row, 0); });
  Json p;
  for (const char* field : {"id", "title", "revision", "currency", "lines", "subtotal", "discount_total", "total",
                            "valid_until", "payment_terms", "notes", "attributes"})
    p[field] = proposal.value(field, Json());
  return {{"proposal", p},
          {"account",
           {{"legal_name", account.value("legal_name", Json())},
            {"trade_name", account.value("trade_name", Json())},
            {"tax_id", account.value("tax_id", Json())},
            {"tax_id_kind", account.value("tax_id_kind", Json())}}},
          {"deal", {{"id", deal.value("id", Json())}, {"name", deal.value("name", Json())}}},
          {"seller", seller ? Json{{"name", (*seller)["name"]}, {"email", (*seller)["email"]}} : Json()},
          {"tenant", {{"name", tenant_name}}},
          {"issued_on", format_rfc3339(now).substr(0, 10)},
          {"template", template_for(tx, tenant, proposal)}};
}

struct Frozen {
  std::int64_t revision = 0;
  Json document;
  std::string html, pdf, sha256, frozen_at;
};

// Which of a frozen revision's files to read besides its document: a page needs no PDF.
enum class Files { none, html, pdf };

std::optional<Frozen> frozen_version(store::Transaction& tx, const std::string& tenant, const std::string& id,
                                     std::int64_t revision, Files files) {
  std::optional<Frozen> out;
  std::string columns = std::string("document, ") + (files == Files::html ? "html" : "''") + ", " +
                        (files == Files::pdf ? "pdf_base64" : "''") + ", pdf_sha256, frozen_at";
  store::query(tx.session(),
               "SELECT " + columns + " FROM proposal_versions WHERE tenant_id = :p0 AND proposal_id = :p1 AND revision = :p2",
               {tenant, id, revision}, [&](const store::Row& row) {
                 Frozen f;
                 f.revision = revision;
                 f.document = Json::parse(store::required_text(row, 0));
                 f.html = store::text_at(row, 1).value_or("");
                 f.pdf = from_base64(store::text_at(row, 2).value_or("")).value_or("");
                 f.sha256 = store::required_text(row, 3);
                 f.frozen_at = format_rfc3339(Timestamp{store::required_integer(row, 4)});
                 out = std::move(f);
               });
  return out;
}

std::string actor_text(const CallContext& ctx) { return ctx.actor.type + ":" + ctx.actor.id; }

// --- discount limits -----------------------------------------------------------------------

// The largest line discount the caller may send alone, in hundredths of a percent; none:
// no limit. Work with no caller (a rule, a cadence) sends on the proposal owner's limit:
// automation never gives a discount its owner could not.
std::optional<std::int64_t> discount_limit(const ProposalSettings& settings, const std::string& role,
                                           const std::vector<std::string>& team_ids) {
  if (role == "admin") return std::nullopt;
  std::optional<std::int64_t> limit;
  auto raise = [&](const std::string& name) {
    auto it = settings.discount_limits.find(name);
    if (it == settings.discount_limits.end()) return false;
    limit = std::max(limit.value_or(0), it->second);
    return true;
  };
  bool role_limited = raise(role);
  for (const auto& team : team_ids) raise(team);
  if (!role_limited) return std::nullopt;  // a role not named has no limit
  return limit;
}

struct Sender {
  std::string role, user_id;
  std::vector<std::string> team_ids;
};
// Who a sending's discount limit is: the caller, or for work with no caller the owner.
Sender sender_of(ServiceDependencies& deps, const CallContext& ctx, const Json& proposal) {
  if (const Principal* who = ctx.principal.get()) return {who->role, who->user_id, who->team_ids};
  auto owner = deps.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    return find(tx, ctx.tenant_id, "user", text_of(proposal, "owner_id"));
  });
  if (!owner) return {"admin", "", {}};  // nobody owns it: the system's own sending
  std::vector<std::string> teams;
  for (const auto& t : owner->value("team_ids", Json::array())) teams.push_back(t);
  return {text_of(*owner, "role"), text_of(*owner, "id"), teams};
}

std::int64_t largest_line_discount(const Json& proposal) {
  std::vector<FieldError> errors;
  return documents::price_lines(proposal.value("lines", Json::array()), errors).max_line_discount_hundredths;
}

// What the channel account's plugin offers here ("email", "whatsapp"; "" when unknown:
// ConversationService refuses the sending, naming why).
std::string channel_kind(ServiceDependencies& deps, const CallContext& ctx, const std::string& channel_account_id,
                         const ProposalService::Channels& channels) {
  std::string plugin;
  deps.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    store::query(tx.session(), "SELECT plugin_id FROM channel_accounts WHERE tenant_id = :p0 AND id = :p1",
                 {ctx.tenant_id, channel_account_id}, [&](const store::Row& row) { plugin = store::required_text(row, 0); });
    return 0;
  });
  return plugin.empty() || !channels.traits_of ? "" : channels.traits_of(plugin).kind;
}

// --- public links ---------------------------------------------------------------------------

struct Link {
  std::string id, proposal_id;
  std::int64_t revision = 0, expires_at = 0, view_count = 0;
  std::optional<std::int64_t> revoked_at, first_viewed_at, last_viewed_at;
  std::string view_interaction_id;
};

std::string link_signature(const SecretBox& secrets, const std::string& tenant, const std::string& link_id) {
  return secrets.signature(link_use, tenant + "\n" + link_id).substr(0, link_signature_length);
}

std::string link_path(const SecretBox& secrets, const std::string& tenant, const std::string& link_id) {
  return "/v1/public/proposals/" + tenant + "." + link_id + "." + link_signature(secrets, tenant, link_id);
}

std::optional<Link> load_link(store::Transaction& tx, const std::string& tenant, const std::string& link_id) {
  std::optional<Link> out;
  store::query(tx.session(),
               "SELECT id, proposal_id, revision, expires_at, revoked_at, view_count, first_viewed_at, last_viewed_at,"
               " view_interaction_id FROM proposal_links WHERE tenant_id = :p0 AND id = :p1",
               {tenant, link_id}, [&](const store::Row& row) {
                 Link l;
                 l.id = store::required_text(row, 0);
                 l.proposal_id = store::required_text(row, 1);
                 l.revision = store::required_integer(row, 2);
                 l.expires_at = store::required_integer(row, 3);
                 l.revoked_at = store::integer_at(row, 4);
                 l.view_count = store::required_integer(row, 5);
                 l.first_viewed_at = store::integer_at(row, 6);
                 l.last_viewed_at = store::integer_at(row, 7);
                 l.view_interaction_id = store::text_at(row, 8).value_or("");
                 out = std::move(l);
               });
  return out;
}

Json link_json(const SecretBox& secrets, const std::string& public_url, const std::string& tenant, const Link& l) {
  auto time = [](const std::optional<std::int64_t>& t) { return t ? Json(format_rfc3339(Timestamp{*t})) : Json(); };
  std::string path = link_path(secrets, tenant, l.id);
  return {{"id", l.id},
          {"revision", l.revision},
          {"url", public_url.empty() ? Json() : Json(public_url + path)},
          {"path", path},
          {"expires_at", format_rfc3339(Timestamp{l.expires_at})},
          {"revoked_at", time(l.revoked_at)},
          {"view_count", l.view_count},
          {"first_viewed_at", time(l.first_viewed_at)},
          {"last_viewed_at", time(l.last_viewed_at)}};
}

// A new link to `revision`, with its audit and domain event (proposal.link_issued).
Link insert_link(store::Transaction& tx, const CallContext& ctx, const std::string& proposal_id, std::int64_t revision,
                 int days) {
  Link l;
  l.id = generate_id(id_prefix::proposal_link, ctx.now());
  l.proposal_id = proposal_id;
  l.revision = revision;
  l.expires_at = ctx.now().micros + std::int64_t{days} * 86'400'000'000;
  store::execute(tx.session(),
                 "INSERT INTO proposal_links (id, tenant_id, proposal_id, revision, expires_at, created_by, created_at)"
                 " VALUES (:p0, :p1, :p2, :p3, :p4, :p5, :p6)",
                 {l.id, ctx.tenant_id, proposal_id, revision, l.expires_at, actor_text(ctx), ctx.now().micros});
  Change c{"proposal.link_issued", "proposal", proposal_id};
  c.changes = {{"link_id", {{"to", l.id}}}, {"revision", {{"to", revision}}},
               {"expires_at", {{"to", format_rfc3339(Timestamp{l.expires_at})}}}};
  commit_change(tx, ctx, c);
  return l;
}

int link_days_of(const Json& body, int fallback) {
  const Json& days = body.value("link_days", body.value("days", Json()));
  if (days.is_null()) return fallback;
  if (!days.is_number_integer() || days.get<std::int64_t>() < 1 || days.get<std::int64_t>() > 365)
    throw Error(ErrorCode::validation, "invalid link lifetime", {{"link_days", "must be 1 to 365 days"}});
  return days.get<int>();
}

void check_keys(const Json& body, const std::set<std::string>& allowed, const std::string& what) {
  if (!body.is_object()) throw Error(ErrorCode::validation, what + " is a JSON object", {{"", "must be an object"}});
  std::vector<FieldError> errors;
  for (const auto& [key, value] : body.items())
    if (!allowed.count(key)) errors.push_back({key, "is not a field of " + what});
  if (!errors.empty()) throw validation_error("invalid " + what, errors);
}

// The link a token names, its signature checked: a token is <tenant>.<link id>.<signature>.
struct LinkToken {
  std::string tenant, link_id;
};
std::optional<LinkToken> parse_token(const SecretBox& secrets, const std::string& token) {
  static const std::regex shape("^(ten_[a-z0-9]{1,64})\\.(plk_[a-z0-9]{1,64})\\.([0-9a-f]{32})$");
  std::smatch m;
  if (token.size() > 200 || !std::regex_match(token, m, shape)) return std::nullopt;
  if (!constant_time_equal(link_signature(secrets, m[1], m[2]), m[3].str())) return std::nullopt;
  return LinkToken{m[1], m[2]};
}

// A public call acts as the link: the signature is the authority, nobody's key.
CallContext as_link(const CallContext& ctx, const std::string& tenant, const std::string& link_id) {
  CallContext call = ctx;
  call.tenant_id = tenant;
  call.actor = {"system", "proposal-link", ""};
  call.principal = nullptr;
  call.reason = link_id;
  return call;
}

// --- the public page ------------------------------------------------------------------------

std::string page_html(const std::string& title, const std::string& message) {
  return "<!DOCTYPE html>\n<html lang=\"pt-BR\"><head><meta charset=\"utf-8\"><title>" + html_escape(title) +
         "</title></head><body style=\"font-family: sans-serif; max-width: 640px; margin: 48px auto\"><h1>" +
         html_escape(title) + "</h1><p>" + html_escape(message) + "</p></body></html>\n";
}

// Why a revision can no longer be decided: withdrawn (archived), decided, superseded,
// expired — or nothing.
std::string closed_because(const Json& proposal, std::int64_t revision, Timestamp now) {
  std::string status = text_of(proposal, "status");
  if (!proposal.value("archived_at", Json()).is_null()) return "Esta proposta foi retirada por quem a enviou.";
  if (proposal.value("decided_revision", Json()) == Json(revision))
    return status == "accepted" ? "Esta proposta foi aceita." : "Esta proposta foi recusada.";
  if (proposal.value("revision", 0) != revision || status != "sent")
    return "Esta versão da proposta foi substituída por uma mais recente.";
  std::string valid_until = text_of(proposal, "valid_until");
  if (!valid_until.empty() && format_rfc3339(now).substr(0, 10) > valid_until)
    return "A validade desta proposta terminou em " + documents::format_date(valid_until) + ".";
  return "";
}

std::string decision_panel(const std::string& action, const std::string& pdf_path, const std::string& closed,
                           const Json& acceptance_fields) {
  std::string html = "<section class=\"decision\"><p><a href=\"" + html_escape(pdf_path) +
                     "\">Baixar a proposta em PDF</a></p>\n";
  if (!closed.empty()) return html + "<p class=\"status\">" + html_escape(closed) + "</p></section>\n";
  html += "<form method=\"post\" action=\"" + html_escape(action) +
          "\">\n<h2>Sua decisão</h2>\n<label for=\"name\">Nome completo</label><input id=\"name\" name=\"name\" "
          "required maxlength=\"200\" autocomplete=\"name\">\n";
  for (const auto& field : acceptance_fields) {
    if (field == "cpf")
      html += "<label for=\"cpf\">CPF</label><input id=\"cpf\" name=\"cpf\" required maxlength=\"14\" inputmode=\"numeric\">\n";
    if (field == "role")
      html += "<label for=\"role\">Cargo</label><input id=\"role\" name=\"role\" required maxlength=\"200\">\n";
  }
  html += "<label for=\"reason\">Comentário (opcional)</label><input id=\"reason\" name=\"reason\" maxlength=\"1000\">\n"
          "<button type=\"submit\" name=\"decision\" value=\"accept\">Aceitar a proposta</button>"
          "<button type=\"submit\" name=\"decision\" value=\"decline\">Recusar</button>\n</form></section>\n";
  return html;
}

// The frozen page with the decision panel before its </body>.
std::string with_panel(std::string html, const std::string& panel) {
  std::size_t at = html.rfind("</body>");
  html.insert(at == std::string::npos ? html.size() : at, panel);
  return html;
}

}  // namespace

// --- send and approve ------------------------------------------------------------------------

Json ProposalService::send(const CallContext& ctx, const std::string& id, const Json& body,
                           std::optional<std::int64_t> expected_version, const Channels& channels) {
  check_keys(body, {"link_days", "channel_account_id", "contact_id", "message", "purpose"}, "a proposal's sending");
  int days = link_days_of(body, deps_.proposals.link_days);
  Json current = RecordService(deps_).get(ctx, "proposal", id);
  require_permission(ctx, entity_spec("proposal"), Operation::write);
  if (!current["archived_at"].is_null()) throw Error(ErrorCode::conflict, "proposal " + id + " is archived; restore it first");
  std::string status = text_of(current, "status");
  if (status == "accepted" || status == "declined")
    throw Error(ErrorCode::conflict, "proposal " + id + " was " + status + "; it cannot be sent again");
  if (current["lines"].empty())
    throw Error(ErrorCode::validation, "a proposal needs a line to be sent", {{"/lines", "must have at least one line"}});
  std::string valid_until = text_of(current, "valid_until");
  if (!valid_until.empty() && format_rfc3339(ctx.now()).substr(0, 10) > valid_until)
    throw Error(ErrorCode::validation, "the proposal's validity ended on " + documents::format_date(valid_until),
                {{"valid_until", "is in the past: extend it before sending"}});

  // A discount above the sender's limit waits for someone whose limit covers it.
  std::int64_t discount = largest_line_discount(current);
  Sender sender = sender_of(deps_, ctx, current);
  auto limit = discount_limit(deps_.proposals, sender.role, sender.team_ids);
  if (limit && discount > *limit) {
    bool approved = false;
    for (const auto& a : current["approvals"])
      approved = approved || (a.value("revision", 0) == current["revision"] && a.value("user_id", "") != "" &&
                              a.value("user_id", "") != sender.user_id);
    if (!approved)
      throw Error(ErrorCode::validation,
                  "a discount of " + documents::format_percent(discount) + " is above the " +
                      documents::format_percent(*limit) + " a " + sender.role +
                      " may give alone: it needs an approval (POST /v1/proposals/" + id + "/approvals)",
                  {{"approvals", "a discount approval of revision " + current["revision"].dump() + " is missing",
                    "discount_approval_missing"}});
  }

  std::string contact_id = text_of(body, "contact_id").empty() ? text_of(current, "contact_id") : text_of(body, "contact_id");
  bool by_channel = body.contains("channel_account_id");
  if (by_channel && contact_id.empty())
    throw Error(ErrorCode::validation, "whom to send the proposal to",
                {{"contact_id", "is required to send through a channel (the proposal names no contact)"}});
  if (by_channel && !channels.jobs) throw Error(ErrorCode::unavailable, "this server sends no channel messages");
  if (by_channel && text_of(body, "channel_account_id").empty())
    throw Error(ErrorCode::validation, "invalid channel", {{"channel_account_id", "must be a channel account id"}});

  // Rendered before the transaction: a write holds no lock while cairo lays out pages.
  std::int64_t revision = current["revision"].get<std::int64_t>();
  bool already_frozen = current.value("sent_revision", Json()) == current["revision"];
  Frozen fresh;
  if (!already_frozen) {
    fresh.document = deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
      return document_of(tx, ctx.tenant_id, current, ctx.now());
    });
    fresh.html = documents::render_proposal_html(fresh.document);
    fresh.pdf = documents::render_proposal_pdf(fresh.document);
    fresh.sha256 = sha256_hex(fresh.pdf);
  }

  return deps_.database.in_one_transaction(ctx.tenant_id, [&] {
    WriteResult sent = run_write(deps_, ctx, entity_spec("proposal"), "proposal.sent", id, expected_version, [&](Write& w) {
      if (w.before["version"] != current["version"])
        throw Error(ErrorCode::aborted, "proposal " + id + " changed while it was rendered; send it again");
      w.after = w.before;
      w.after["status"] = "sent";
      w.after["sent_revision"] = revision;
      w.after["sent_at"] = format_rfc3339(ctx.now());
      bump_version(w);
      if (already_frozen) return;
      store::execute(w.tx.session(),
                     "INSERT INTO proposal_versions (tenant_id, proposal_id, revision, document, html, pdf_base64,"
                     " pdf_sha256, frozen_at, frozen_by) VALUES (:p0, :p1, :p2, :p3, :p4, :p5, :p6, :p7, :p8)",
                     {ctx.tenant_id, id, revision, fresh.document.dump(), fresh.html, to_base64(fresh.pdf),
                      fresh.sha256, ctx.now().micros, actor_text(ctx)});
    });
    auto frozen = deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
      auto f = frozen_version(tx, ctx.tenant_id, id, revision, by_channel ? Files::pdf : Files::none);
      Link link = insert_link(tx, ctx, id, revision, days);
      return std::pair{std::move(*f), link};
    });
    const Frozen& version = frozen.first;
    Json link = link_json(deps_.secrets, deps_.public_url, ctx.tenant_id, frozen.second);

    Json message;
    if (by_channel) {
      std::string where = link["url"].is_string() ? link["url"].get<std::string>() : link["path"].get<std::string>();
      std::string title = text_of(current, "title");
      std::string text = text_of(body, "message").empty()
                             ? "Segue a proposta \"" + title + "\" (versão " + std::to_string(revision) +
                                   "). Para ver, aceitar ou recusar: " + where
                             : text_of(body, "message") + "\n\n" + where;
      Json out = {{"channel_account_id", body["channel_account_id"]}, {"text", text}, {"deal_id", current["deal_id"]}};
      if (body.contains("purpose")) out["purpose"] = body["purpose"];
      std::string kind = channel_kind(deps_, ctx, text_of(body, "channel_account_id"), channels);
      std::string file_name = "proposta-" + id + "-v" + std::to_string(revision) + ".pdf";
      if (kind == "email") {
        out["subject"] = "Proposta: " + title.substr(0, 480);
        out["attachments"] = {{{"name", file_name}, {"type", "application/pdf"}, {"content_base64", to_base64(version.pdf)}}};
      } else if (kind == "whatsapp" && link["url"].is_string() && out["text"].get<std::string>().size() <= 1024) {
        // WhatsApp fetches the PDF from the link itself: the deployment's public address.
        out["document"] = {{"url", link["url"].get<std::string>() + "/pdf"}, {"filename", file_name}};
      }
      message = ConversationService(deps_).send(ctx, *channels.jobs, contact_id, out, channels.traits_of);
    }
    // The sending, on the deal's timeline.
    Json interaction = {{"type", "proposal"},
                        {"direction", "outbound"},
                        {"subject", "Proposta enviada: " + text_of(current, "title").substr(0, 400) + " (versão " +
                                        std::to_string(revision) + ")"},
                        {"deal_id", current["deal_id"]},
                        {"content",
                         {{"proposal_id", id},
                          {"revision", revision},
                          {"pdf_sha256", version.sha256},
                          {"link_id", link["id"]},
                          {"message_id", message.is_object() ? message.value("id", Json()) : Json()}}}};
    if (!contact_id.empty()) interaction["contact_id"] = contact_id;
    RecordService(deps_).create(ctx, "interaction", interaction);
    return Json{{"proposal", sent.record},
                {"version", {{"revision", revision}, {"pdf_sha256", version.sha256}, {"frozen_at", version.frozen_at}}},
                {"link", link},
                {"message", message}};
  });
}

std::string ProposalService::open_proposal_of(const CallContext& ctx, const std::string& deal_id) {
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    std::string id;
    store::query(tx.session(),
                 "SELECT id FROM proposals WHERE tenant_id = :p0 AND deal_id = :p1 AND archived_at IS NULL"
                 " AND status IN ('draft', 'sent') ORDER BY id DESC LIMIT 1",
                 {ctx.tenant_id, deal_id}, [&](const store::Row& row) { id = store::required_text(row, 0); });
    return id;
  });
}

WriteResult ProposalService::approve(const CallContext& ctx, const std::string& id, const Json& body,
                                     std::optional<std::int64_t> expected_version) {
  check_keys(body, {"note"}, "an approval");
  const Principal* who = ctx.principal.get();
  if (!who || who->user_id.empty())
    throw Error(ErrorCode::validation, "an approval is given by a person: call with a user's key or On-Behalf-Of",
                {{"approver", "the caller acts as no user", "approver_unknown"}});
  std::string note = text_of(body, "note");
  if (note.size() > 1000) throw Error(ErrorCode::validation, "the note is too long", {{"note", "must be at most 1000 characters"}});
  RecordService(deps_).get(ctx, "proposal", id);  // 404 for what the caller may not see
  return run_write(deps_, ctx, entity_spec("proposal"), "proposal.approved", id, expected_version, [&](Write& w) {
    w.after = w.before;
    std::int64_t discount = largest_line_discount(w.before);
    auto limit = discount_limit(deps_.proposals, who->role, who->team_ids);
    if (limit && discount > *limit)
      throw Error(ErrorCode::validation,
                  "a " + who->role + " may approve discounts up to " + documents::format_percent(*limit) + ", not " +
                      documents::format_percent(discount),
                  {{"approver", "the discount is above the approver's own limit", "approval_not_allowed"}});
    if (text_of(w.before, "owner_id") == who->user_id)
      throw Error(ErrorCode::validation, "the proposal's owner cannot approve her own discount",
                  {{"approver", "is the proposal's owner", "approval_not_allowed"}});
    if (text_of(w.before, "status") != "draft")
      throw Error(ErrorCode::conflict, "proposal " + id + " is " + text_of(w.before, "status") +
                                           ": approvals are for a revision not sent yet");
    Json approvals = w.before.value("approvals", Json::array());
    for (const auto& a : approvals)
      if (a.value("user_id", "") == who->user_id && a.value("revision", 0) == w.before["revision"]) return;
    approvals.push_back({{"revision", w.before["revision"]},
                         {"user_id", who->user_id},
                         {"role", who->role},
                         {"discount_percent", static_cast<double>(discount) / 100.0},
                         {"at", format_rfc3339(ctx.now())},
                         {"note", note.empty() ? Json() : Json(note)}});
    w.after["approvals"] = std::move(approvals);
    bump_version(w);
  });
}

std::vector<Json> ProposalService::approvals_waiting_for(const CallContext& ctx, const std::string& user_id,
                                                        std::size_t limit) {
  std::vector<Json> out;
  if (deps_.proposals.discount_limits.empty()) return out;  // nobody's discount needs one
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    auto limit_of = [&](const std::string& id) -> std::optional<std::optional<std::int64_t>> {
      auto user = find(tx, ctx.tenant_id, "user", id);
      if (!user || !(*user)["archived_at"].is_null()) return std::nullopt;
      std::vector<std::string> teams;
      for (const auto& t : user->value("team_ids", Json::array())) teams.push_back(t);
      return discount_limit(deps_.proposals, text_of(*user, "role"), teams);
    };
    auto approver = limit_of(user_id);
    if (!approver) return out;
    std::map<std::string, std::optional<std::int64_t>> owners;
    // Drafts with a discount: what an approval can be about.
    std::vector<Json> drafts = store::RecordTable(entity_spec("proposal"))
                                   .list(tx, ctx.tenant_id, {{{"status", "draft"}}, "", 1000, false});
    for (const auto& p : drafts) {
      if (out.size() >= limit) break;
      std::string owner = text_of(p, "owner_id");
      if (p.value("discount_total", 0) <= 0 || owner == user_id) continue;
      if (!owners.count(owner)) owners[owner] = limit_of(owner).value_or(std::nullopt);
      std::int64_t discount = largest_line_discount(p);
      bool needed = owners[owner] && discount > *owners[owner];
      bool within = !*approver || discount <= **approver;
      bool given = false;
      for (const auto& a : p.value("approvals", Json::array()))
        given = given || (a.value("user_id", "") == user_id && a.value("revision", 0) == p["revision"]);
      if (!needed || !within || given) continue;
      out.push_back({{"proposal_id", p["id"]},
                     {"title", p["title"]},
                     {"deal_id", p["deal_id"]},
                     {"owner_id", p["owner_id"]},
                     {"revision", p["revision"]},
                     {"discount_percent", static_cast<double>(discount) / 100.0}});
    }
    return out;
  });
}

// --- versions, previews, links ---------------------------------------------------------------------

std::vector<Json> ProposalService::versions(const CallContext& ctx, const std::string& id) {
  RecordService(deps_).get(ctx, "proposal", id);
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    std::vector<Json> out;
    store::query(tx.session(),
                 "SELECT revision, pdf_sha256, frozen_at, frozen_by FROM proposal_versions"
                 " WHERE tenant_id = :p0 AND proposal_id = :p1 ORDER BY revision",
                 {ctx.tenant_id, id}, [&](const store::Row& row) {
                   out.push_back({{"revision", store::required_integer(row, 0)},
                                  {"pdf_sha256", store::required_text(row, 1)},
                                  {"frozen_at", format_rfc3339(Timestamp{store::required_integer(row, 2)})},
                                  {"frozen_by", store::required_text(row, 3)}});
                 });
    return out;
  });
}

ProposalFile ProposalService::version_file(const CallContext& ctx, const std::string& id, std::int64_t revision,
                                           const std::string& format) {
  if (format != "pdf" && format != "html" && format != "json")
    throw Error(ErrorCode::validation, "unknown format", {{"format", "must be pdf, html or json"}});
  RecordService(deps_).get(ctx, "proposal", id);
  auto frozen = deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    return frozen_version(tx, ctx.tenant_id, id, revision,
                          format == "pdf" ? Files::pdf : format == "html" ? Files::html : Files::none);
  });
  if (!frozen)
    throw Error(ErrorCode::not_found, "proposal " + id + " has no sent revision " + std::to_string(revision));
  std::string name = "proposta-" + id + "-v" + std::to_string(revision);
  if (format == "pdf") return {"application/pdf", frozen->pdf, name + ".pdf"};
  if (format == "html") return {"text/html; charset=utf-8", frozen->html, name + ".html"};
  Json out = {{"revision", revision}, {"pdf_sha256", frozen->sha256}, {"frozen_at", frozen->frozen_at},
              {"document", frozen->document}};
  return {"application/json", out.dump(), name + ".json"};
}

ProposalFile ProposalService::preview(const CallContext& ctx, const std::string& id, const std::string& format) {
  if (format != "pdf" && format != "html")
    throw Error(ErrorCode::validation, "unknown format", {{"format", "must be pdf or html"}});
  Json current = RecordService(deps_).get(ctx, "proposal", id);
  Json document = deps_.database.read(
      ctx.tenant_id, [&](store::Transaction& tx) { return document_of(tx, ctx.tenant_id, current, ctx.now()); });
  std::string name = "proposta-" + id + "-previa";
  if (format == "pdf") return {"application/pdf", documents::render_proposal_pdf(document), name + ".pdf"};
  return {"text/html; charset=utf-8", documents::render_proposal_html(document), name + ".html"};
}

Json ProposalService::issue_link(const CallContext& ctx, const std::string& id, const Json& body) {
  check_keys(body, {"days"}, "a link");
  int days = link_days_of(body, deps_.proposals.link_days);
  Json current = RecordService(deps_).get(ctx, "proposal", id);
  require_permission(ctx, entity_spec("proposal"), Operation::write);
  if (current["sent_revision"].is_null())
    throw Error(ErrorCode::conflict, "proposal " + id + " was never sent: send it first (POST /v1/proposals/" + id + "/send)");
  Link link = deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    return insert_link(tx, ctx, id, current["sent_revision"].get<std::int64_t>(), days);
  });
  return link_json(deps_.secrets, deps_.public_url, ctx.tenant_id, link);
}

std::vector<Json> ProposalService::links(const CallContext& ctx, const std::string& id) {
  RecordService(deps_).get(ctx, "proposal", id);
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    std::vector<std::string> ids;
    store::query(tx.session(), "SELECT id FROM proposal_links WHERE tenant_id = :p0 AND proposal_id = :p1 ORDER BY id",
                 {ctx.tenant_id, id}, [&](const store::Row& row) { ids.push_back(store::required_text(row, 0)); });
    std::vector<Json> out;
    for (const auto& link_id : ids)
      out.push_back(link_json(deps_.secrets, deps_.public_url, ctx.tenant_id, *load_link(tx, ctx.tenant_id, link_id)));
    return out;
  });
}

Json ProposalService::revoke_link(const CallContext& ctx, const std::string& id, const std::string& link_id) {
  RecordService(deps_).get(ctx, "proposal", id);
  require_permission(ctx, entity_spec("proposal"), Operation::write);
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    auto link = load_link(tx, ctx.tenant_id, link_id);
    if (!link || link->proposal_id != id)
      throw Error(ErrorCode::not_found, "proposal " + id + " has no link " + link_id);
    if (!link->revoked_at) {
      link->revoked_at = ctx.now().micros;
      store::execute(tx.session(), "UPDATE proposal_links SET revoked_at = :p0 WHERE tenant_id = :p1 AND id = :p2",
                     {*link->revoked_at, ctx.tenant_id, link_id});
      Change c{"proposal.link_revoked", "proposal", id};
      c.changes = {{"link_id", {{"to", link_id}}}};
      commit_change(tx, ctx, c);
    }
    return link_json(deps_.secrets, deps_.public_url, ctx.tenant_id, *link);
  });
}

Json ProposalService::proof(const CallContext& ctx, const std::string& id) {
  RecordService(deps_).get(ctx, "proposal", id);
  Json bundle = AuditService(deps_).entity_proofs(ctx, {{"proposal", id}}, std::nullopt);
  bundle["format"] = "nucleo-party-bundle";  // what `nucleo audit verify FILE` reads
  bundle["version"] = 1;
  bundle["party_id"] = id;
  return bundle;
}

// --- the public link ---------------------------------------------------------------------------

PublicPage ProposalService::page(const CallContext& ctx, const std::string& token) {
  auto parsed = parse_token(deps_.secrets, token);
  const PublicPage invalid{404, page_html("Link inválido", "Este link de proposta não é válido."),
                           "this proposal link is not valid"};
  if (!parsed) return invalid;
  CallContext call = as_link(ctx, parsed->tenant, parsed->link_id);
  struct Seen {
    Link link;
    Frozen frozen;
    Json proposal;
  };
  auto seen = deps_.database.in_one_transaction(call.tenant_id, [&]() -> std::optional<Seen> {
    auto found = deps_.database.write(call.tenant_id, [&](store::Transaction& tx) -> std::optional<Seen> {
      auto link = load_link(tx, call.tenant_id, parsed->link_id);
      if (!link || link->revoked_at || call.now().micros >= link->expires_at) return Seen{link.value_or(Link{}), {}, {}};
      auto proposal = find(tx, call.tenant_id, "proposal", link->proposal_id);
      auto frozen = frozen_version(tx, call.tenant_id, link->proposal_id, link->revision, Files::html);
      if (!proposal || !frozen) return std::nullopt;
      std::int64_t now = call.now().micros;
      link->view_count += 1;
      if (!link->first_viewed_at) link->first_viewed_at = now;
      link->last_viewed_at = now;
      store::execute(tx.session(),
                     "UPDATE proposal_links SET view_count = :p0, first_viewed_at = :p1, last_viewed_at = :p2"
                     " WHERE tenant_id = :p3 AND id = :p4",
                     {link->view_count, *link->first_viewed_at, now, call.tenant_id, link->id});
      Change c{"proposal.viewed", "proposal", link->proposal_id};
      c.changes = {{"link_id", {{"to", link->id}}}, {"revision", {{"to", link->revision}}},
                   {"view_count", {{"from", link->view_count - 1}, {"to", link->view_count}}}};
      c.record = visible_record(entity_spec("proposal"), *proposal);  // what rules read as {{proposal.…}}
      commit_change(tx, call, c);
      return Seen{*link, std::move(*frozen), std::move(*proposal)};
    });
    if (!found || found->proposal.is_null()) return found;
    // The link's views, on the deal's timeline: one interaction per link, kept current.
    Json content = {{"proposal_id", found->link.proposal_id},
                    {"revision", found->link.revision},
                    {"link_id", found->link.id},
                    {"view_count", found->link.view_count},
                    {"first_viewed_at", format_rfc3339(Timestamp{*found->link.first_viewed_at})},
                    {"last_viewed_at", format_rfc3339(Timestamp{*found->link.last_viewed_at})}};
    RecordService records(deps_);
    if (found->link.view_interaction_id.empty()) {
      Json interaction = {{"type", "proposal"},
                          {"direction", "inbound"},
                          {"subject", "Proposta visualizada: " + text_of(found->proposal, "title").substr(0, 400) +
                                          " (versão " + std::to_string(found->link.revision) + ")"},
                          {"deal_id", found->proposal["deal_id"]},
                          {"content", content}};
      if (!text_of(found->proposal, "contact_id").empty()) interaction["contact_id"] = found->proposal["contact_id"];
      auto created = records.create(call, "interaction", interaction);
      deps_.database.write(call.tenant_id, [&](store::Transaction& tx) {
        store::execute(tx.session(), "UPDATE proposal_links SET view_interaction_id = :p0 WHERE tenant_id = :p1 AND id = :p2",
                       {created.record["id"].get<std::string>(), call.tenant_id, found->link.id});
        return 0;
      });
    } else {
      records.update(call, "interaction", found->link.view_interaction_id,
                     {{"content", content}, {"occurred_at", content["last_viewed_at"]}});
    }
    return found;
  });
  if (!seen || seen->proposal.is_null()) {
    if (seen && seen->link.revoked_at)
      return {404, page_html("Link revogado", "Este link de proposta foi revogado. Peça um novo link a quem o enviou."),
              "this proposal link was revoked"};
    if (seen && !seen->link.id.empty())
      return {404, page_html("Link expirado", "Este link de proposta expirou. Peça um novo link a quem o enviou."),
              "this proposal link expired"};
    return invalid;
  }
  std::string base = "/v1/public/proposals/" + token;
  std::string closed = closed_because(seen->proposal, seen->link.revision, call.now());
  Json fields = seen->frozen.document.value("template", Json::object()).value("acceptance_fields", Json::array());
  return {200, with_panel(seen->frozen.html, decision_panel(base + "/decision", base + "/pdf", closed, fields)), ""};
}

ProposalFile ProposalService::public_pdf(const CallContext& ctx, const std::string& token) {
  auto parsed = parse_token(deps_.secrets, token);
  const Error invalid(ErrorCode::not_found, "this proposal link is not valid");
  if (!parsed) throw invalid;
  CallContext call = as_link(ctx, parsed->tenant, parsed->link_id);
  return deps_.database.read(call.tenant_id, [&](store::Transaction& tx) {
    auto link = load_link(tx, call.tenant_id, parsed->link_id);
    if (!link) throw invalid;
    if (link->revoked_at) throw Error(ErrorCode::not_found, "this proposal link was revoked");
    if (call.now().micros >= link->expires_at) throw Error(ErrorCode::not_found, "this proposal link expired");
    auto frozen = frozen_version(tx, call.tenant_id, link->proposal_id, link->revision, Files::pdf);
    if (!frozen) throw invalid;
    return ProposalFile{"application/pdf", frozen->pdf,
                        "proposta-" + link->proposal_id + "-v" + std::to_string(link->revision) + ".pdf"};
  });
}

Json ProposalService::decide(const CallContext& ctx, const std::string& token, const Json& form) {
  auto parsed = parse_token(deps_.secrets, token);
  if (!parsed) throw Error(ErrorCode::not_found, "this proposal link is not valid");
  check_keys(form, {"decision", "name", "cpf", "role", "reason"}, "a decision");
  std::string decision = text_of(form, "decision"), name = text_of(form, "name");
  std::vector<FieldError> errors;
  if (decision != "accept" && decision != "decline") errors.push_back({"decision", "must be accept or decline"});
  if (name.size() < 3 || name.size() > 200) errors.push_back({"name", "type your full name (3 to 200 characters)"});
  if (text_of(form, "reason").size() > 1000) errors.push_back({"reason", "must be at most 1000 characters"});
  if (text_of(form, "role").size() > 200) errors.push_back({"role", "must be at most 200 characters"});
  if (!errors.empty()) throw validation_error("invalid decision", errors);
  CallContext call = as_link(ctx, parsed->tenant, parsed->link_id);

  auto link = deps_.database.read(call.tenant_id, [&](store::Transaction& tx) {
    return load_link(tx, call.tenant_id, parsed->link_id);
  });
  if (!link) throw Error(ErrorCode::not_found, "this proposal link is not valid");
  if (link->revoked_at) throw Error(ErrorCode::not_found, "this proposal link was revoked");
  if (call.now().micros >= link->expires_at) throw Error(ErrorCode::not_found, "this proposal link expired");
  std::string action = decision == "accept" ? "proposal.accepted" : "proposal.declined";
  WriteResult decided = run_write(deps_, call, entity_spec("proposal"), action, link->proposal_id, std::nullopt, [&](Write& w) {
    std::string closed = closed_because(w.before, link->revision, call.now());
    if (!closed.empty())
      throw Error(ErrorCode::conflict, w.before.value("revision", 0) != link->revision
                                           ? "revision " + std::to_string(link->revision) +
                                                 " of this proposal was superseded by revision " +
                                                 w.before["revision"].dump() + ": it cannot be decided"
                                           : "this proposal revision can no longer be decided: " + closed,
                  {{"revision", closed}});
    auto frozen = frozen_version(w.tx, call.tenant_id, link->proposal_id, link->revision, Files::none);
    if (!frozen) throw Error(ErrorCode::not_found, "this proposal link is not valid");
    Json fields = {{"sha256", frozen->sha256},
                   {"required", frozen->document.value("template", Json::object()).value("acceptance_fields", Json::array())}};
    std::vector<FieldError> missing;
    Json who = {{"decision", decision}, {"name", name}, {"link_id", link->id}, {"ip", call.source_ip}};
    for (const auto& field : fields["required"]) {
      std::string value = text_of(form, field.get<std::string>());
      if (field == "cpf") {
        auto cpf = normalise_tax_id(value, "BR");
        if (!cpf || cpf->kind != TaxIdKind::cpf)
          missing.push_back({"cpf", "type a valid CPF (11 digits)"});
        else
          who["cpf"] = cpf->value;
      } else if (value.empty()) {
        missing.push_back({field.get<std::string>(), "is required to decide on this proposal"});
      } else {
        who[field.get<std::string>()] = value;
      }
    }
    if (!missing.empty()) throw validation_error("invalid decision", missing);
    if (!text_of(form, "reason").empty()) who["reason"] = form["reason"];
    w.after = w.before;
    w.after["status"] = decision == "accept" ? "accepted" : "declined";
    w.after["decided_revision"] = link->revision;
    w.after["decided_sha256"] = fields["sha256"];
    w.after["decision"] = who;
    w.after["decided_at"] = format_rfc3339(call.now());
    bump_version(w);
  });
  Json out = {{"status", decided.record["status"]},
              {"decided_revision", decided.record["decided_revision"]},
              {"decided_sha256", decided.record["decided_sha256"]}};
  if (decision != "accept" || !decided.record.value("accept_moves_deal", false)) return out;
  // The deal follows, through its gates; a refusal leaves the acceptance standing.
  try {
    std::string deal_id = text_of(decided.record, "deal_id");
    std::string won = deps_.database.read(call.tenant_id, [&](store::Transaction& tx) {
      std::string stage;
      store::query(tx.session(),
                   "SELECT s.id FROM stages s JOIN deals d ON d.pipeline_id = s.pipeline_id AND d.tenant_id = s.tenant_id"
                   " WHERE d.tenant_id = :p0 AND d.id = :p1 AND s.kind = 'won' AND s.archived_at IS NULL"
                   " ORDER BY s.position LIMIT 1",
                   {call.tenant_id, deal_id}, [&](const store::Row& row) { stage = store::required_text(row, 0); });
      return stage;
    });
    if (won.empty()) throw Error(ErrorCode::conflict, "the deal's pipeline has no won stage");
    auto moved = RecordService(deps_).move_deal_stage(call, deal_id, won);
    out["deal_move"] = {{"stage_id", won}, {"status", moved.record["status"]}};
  } catch (const Error& e) {
    out["deal_move"] = {{"error", e.what()}};
  }
  return out;
}

}  // namespace nucleo::services
