// The healthcare vertical pack (docs/verticals/healthcare.md), against the SDK alone:
// institutions identified by CNES and CNPJ with the mantenedora as parent, the CNES
// establishment extract as an import format, the institution's history, people's roles
// over time, contract renewal alerts, purchase history rolled up the hierarchy,
// clinical-adjacent events behind break-glass with a retention rule, and a FHIR R4 export.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <set>

#include "cnes.hpp"
#include "common/pack.hpp"
#include "demo.hpp"
#include "fhir.hpp"
#include "institutions.hpp"
#include "nucleo/sdk/plugin.hpp"

namespace nucleo::healthcare {
namespace {

using nucleo::sdk::Auth;
using nucleo::sdk::Error;
using nucleo::sdk::Host;
using nucleo::sdk::Request;
using nucleo::sdk::Response;

constexpr int max_page = 100;

using verticals::every_document;
using verticals::rfc3339;
using verticals::stored;
using verticals::text;

int page_size(const Request& r, const char* parameter, int fallback) {
  std::string given = r.query(parameter);
  if (given.empty()) return fallback;
  if (given.find_first_not_of("0123456789") != std::string::npos || given.size() > 4 || std::stoi(given) < 1 ||
      std::stoi(given) > max_page)
    throw Error(NUCLEO_INVALID_ARGUMENT, std::string(parameter) + " must be a whole number from 1 to 100");
  return std::stoi(given);
}

// The live accounts a search finds, every page (at most `cap`).
std::vector<Json> accounts_where(const Host& host, const nucleo_call* call, const Json& filters, std::size_t cap = 1000) {
  return verticals::records_where(host, call, "account", filters, cap);
}

Json account_with_tax_id(const Host& host, const nucleo_call* call, const std::string& tax_id) {
  if (tax_id.empty()) return nullptr;
  auto found = accounts_where(host, call, Json::array({{{"field", "tax_id"}, {"op", "eq"}, {"value", tax_id}}}), 1);
  return found.empty() ? Json() : found[0];
}

// The id of the most recent CNES import any establishment was seen in (ids sort by time).
std::string latest_import(const Host& host, const nucleo_call* call) {
  Json page = host.store_query(call, "establishments", {{"sort", "-seen_in"}, {"limit", 1}});
  return page["data"].empty() ? "" : text(page["data"][0]["document"], "seen_in");
}

class Healthcare : public nucleo::sdk::Plugin {
 public:
  void init(Host& host, const Json&) override {
    host_ = &host;
    declare_attributes(host);
    host.line_importer({{"name", "cnes"},
                        {"title", "DATASUS CNES establishment extract (tbEstabelecimento, ';'-separated, ISO-8859-1)"},
                        {"media_types", {"text/csv", "text/plain"}},
                        {"mapping", cnes_mapping()}},
                       [this](const Host::ImportLine& line) { return cnes_line(line); });
    host.route("GET", "/institutions/{account_id}", Auth::bearer, [this](const Request& r) { return institution(r); });
    host.route("GET", "/institutions/{account_id}/history", Auth::bearer, [this](const Request& r) { return history(r); });
    host.route("GET", "/institutions/{account_id}/purchases", Auth::bearer, [this](const Request& r) { return purchases(r); });
    host.route("GET", "/cnes/changes", Auth::bearer, [this](const Request& r) { return changes(r); });
    host.route("GET", "/cnes/stale", Auth::bearer, [this](const Request& r) { return stale(r); });
    host.route("POST", "/contracts/renewal-check", Auth::bearer, [this](const Request& r) {
      require_role(r, {"admin", "manager"}, "runs the renewal check");
      return Response{200, check_renewals(r.call)};
    });
    host.route("POST", "/clinical-events/retention", Auth::bearer, [this](const Request& r) {
      require_role(r, {"admin"}, "applies the clinical retention rule");
      return Response{200, apply_retention(r.call)};
    });
    add_fhir_routes(host);
    host.briefing_section("institution", "Institution (CNES)",
                          [this](const nucleo_call* call, const Json& account) { return briefing(call, account); });
    host.job("contract-renewals", "cron 0 8 * * *", nucleo::sdk::Scope::tenant,
             [this](const nucleo::sdk::Job& j) { check_renewals(j.call); }, "tenant");
    host.job("clinical-retention", "cron 30 3 * * *", nucleo::sdk::Scope::tenant,
             [this](const nucleo::sdk::Job& j) { apply_retention(j.call); }, "tenant");
    // `nucleo demo --vertical healthcare` runs it once in the new demo tenant.
    host.job("demo", "", nucleo::sdk::Scope::tenant, [this](const nucleo::sdk::Job& j) {
      Json written = seed_demo(*host_, j.call, j.payload().value("seed", 20261204u));
      check_renewals(j.call);
      host_->log(nucleo::sdk::Level::info, "demo data: " + written.dump());
    });
  }

 private:
  static void declare_attributes(Host& host) {
    host.declare_attributes(
        "account",
        {{"health.cnes", {{"type", "string"}, {"pattern", "^[0-9]{7}$"}, {"description", "the establishment's CNES code"}}},
         {"health.establishment_type", {{"type", "string"}, {"pattern", "^[0-9]{2}$"}, {"description", "CNES TP_UNIDADE"}}},
         {"health.management", {{"type", "string"}, {"enum", {"municipal", "estadual", "dupla", "sem_gestao"}}}},
         {"health.municipality_ibge", {{"type", "string"}, {"pattern", "^[0-9]{6,7}$"}}},
         {"health.mantenedora_cnpj", {{"type", "string"}, {"format", "cnpj"}, {"description", "the maintaining entity"}}},
         {"health.registration_updated_on", {{"type", "string"}, {"format", "date"}}}});
    host.declare_attributes(
        "contact", {{"health.council_registration",
                     {{"type", "string"}, {"maxLength", 40}, {"personal", true}, {"description", "CRM, COREN, CRF…"}}},
                    {"health.specialty", {{"type", "string"}, {"maxLength", 120}}}});
    // A rep's note of what a clinician said about a case is health data: sealed as the
    // contact's (personal), and every read of it audited (sensitive).
    host.declare_attributes("interaction", {{"health.clinical_note",
                                             {{"type", "string"}, {"maxLength", 4000}, {"personal", true}, {"sensitive", "phi"}}}});
  }

  static void require_role(const Request& r, std::set<std::string> roles, const std::string& what) {
    nucleo::sdk::Caller who = r.caller();
    if (!who.unrestricted() && !roles.count(who.role))
      throw Error(NUCLEO_FORBIDDEN, "only " + *roles.begin() + (roles.size() > 1 ? " or " + *roles.rbegin() : "") + " " + what);
  }

  // ---- The CNES import ----------------------------------------------------------------

  Json cnes_line(const Host::ImportLine& line) {
    if (line.number == 1) {
      std::string encoding = host_->tenant_settings(line.call)["settings"].value("cnes_encoding", "iso-8859-1");
      bool utf8 = encoding == "utf-8";
      std::string header = utf8 ? std::string(line.text) : verticals::latin1_to_utf8(line.text);
      line.kept = {{"columns", cnes_header(header)}, {"utf8", utf8}, {"at", rfc3339(host_->now_micros(line.call))}};
      return nullptr;
    }
    if (line.text.empty()) return nullptr;
    bool utf8 = line.kept.value("utf8", false);
    if (!utf8 && verticals::holds_utf8_sequences(line.text))
      return {{"error", "the line holds UTF-8 sequences but the extract is read as ISO-8859-1, DATASUS's encoding: "
                        "re-export it as ISO-8859-1, or set the pack's cnes_encoding to utf-8"}};
    std::string text_line = utf8 ? std::string(line.text) : verticals::latin1_to_utf8(line.text);
    auto parsed = cnes_registration(verticals::Columns(line.kept["columns"].get<std::vector<std::string>>()), text_line);
    if (auto* problem = std::get_if<std::string>(&parsed)) return {{"error", *problem}};
    Json registration = std::get<Json>(parsed);

    Json rows = Json::array();
    if (Json fields = account_fields(registration); !fields.is_null()) rows.push_back({{"fields", fields}});
    Json change = registration_change(line, registration);
    rows.push_back({{"record", {{"collection", "establishments"}, {"id", registration["cnes"]}, {"document", registration}}}});
    if (!change.is_null())
      rows.push_back({{"record", {{"collection", "registration_changes"},
                                  {"id", text(change, "cnes") + ":" + line.import_id},
                                  {"document", change}}}});
    return rows;
  }

  // What this import changes in an establishment's registration, as a registration_changes
  // document (null: new, or the same). Marks `registration` seen in this import and keeps
  // the last change on it, so that a resumed import, which reads its first lines again
  // after they were written, gives the same rows for them as the first run did.
  Json registration_change(const Host::ImportLine& line, Json& registration) {
    registration["seen_in"] = line.import_id;
    auto before = stored(*host_, line.call, "establishments", registration["cnes"]);
    if (!before) return nullptr;
    const Json& previous = (*before)["document"];
    const Json last = previous.value("last_change", Json());
    if (text(previous, "seen_in") == line.import_id) {  // read again: answer as the first run did
      if (last.is_object()) registration["last_change"] = last;
      return text(last, "import_id") == line.import_id ? last : Json();
    }
    Json changes = registration_changes(previous, registration);
    if (changes.empty()) {
      if (last.is_object()) registration["last_change"] = last;
      return nullptr;
    }
    Json account = account_with_tax_id(*host_, line.call, text(registration, "account_tax_id"));
    Json change{{"cnes", registration["cnes"]}, {"name", registration["name"]}, {"import_id", line.import_id},
                {"at", line.kept["at"]}, {"changes", changes}};
    if (account.is_object()) change["account_id"] = account["id"];
    registration["last_change"] = change;
    return change;
  }

  // ---- Institutions ---------------------------------------------------------------------

  struct Hierarchy {
    Json account, parent, children = Json::array();
  };

  Hierarchy hierarchy_of(const nucleo_call* call, const std::string& account_id) const {
    Hierarchy h;
    h.account = host_->call(call, "records.get", {{"type", "account"}, {"id", account_id}});
    const Json& attributes = h.account.value("attributes", Json::object());
    h.parent = account_with_tax_id(*host_, call, text(attributes, "health.mantenedora_cnpj"));
    std::string tax = text(h.account, "tax_id");
    if (!tax.empty())
      for (auto& child : accounts_where(*host_, call, Json::array({{{"field", "attributes.health.mantenedora_cnpj"},
                                                                    {"op", "eq"}, {"value", tax}}})))
        if (child["id"] != h.account["id"]) h.children.push_back(child);
    return h;
  }

  static Json summary_of(const Json& account) {
    if (!account.is_object()) return nullptr;
    const Json& attributes = account.value("attributes", Json::object());
    return {{"id", account["id"]}, {"legal_name", account["legal_name"]}, {"tax_id", account.value("tax_id", Json())},
            {"cnes", attributes.value("health.cnes", Json())}};
  }

  std::vector<Json> establishments_of(const nucleo_call* call, const Json& account) const {
    std::string tax = text(account, "tax_id");
    if (tax.empty()) return {};
    return every_document(*host_, call, "establishments", {{"where", {{"account_tax_id", {{"eq", tax}}}}}});
  }

  Response institution(const Request& r) {
    Hierarchy h = hierarchy_of(r.call, r.param("account_id"));
    std::string latest = latest_import(*host_, r.call);
    Json establishments = Json::array();
    bool seen = false;
    for (auto& e : establishments_of(r.call, h.account)) {
      seen = seen || text(e["document"], "seen_in") == latest;
      establishments.push_back(e["document"]);
    }
    std::string today = date_of_micros(host_->now_micros(r.call));
    Json roles = Json::array();
    for (auto& role : every_document(*host_, r.call, "roles", {{"where", {{"account_id", {{"eq", h.account["id"]}}}}}})) {
      std::string to = text(role["document"], "to");
      if (!to.empty() && to < today) continue;
      Json current = role["document"];
      current["id"] = role["id"];
      roles.push_back(current);
    }
    Json children = Json::array();
    for (const auto& c : h.children) children.push_back(summary_of(c));
    return Response{200,
                    {{"account", summary_of(h.account)},
                     {"establishments", establishments},
                     {"parent", summary_of(h.parent)},
                     {"mantenedora_cnpj", h.account.value("attributes", Json::object()).value("health.mantenedora_cnpj", Json())},
                     {"children", children},
                     {"roles", roles},
                     {"latest_import_id", latest.empty() ? Json() : Json(latest)},
                     {"stale", !latest.empty() && !establishments.empty() && !seen}}};
  }

  // The institution's timeline and its units', merged: the kernel's own (interactions,
  // stage changes, tasks, and this pack's contracts, tenders, orders, roles and
  // registration changes, which declare a timeline), newest first.
  Response history(const Request& r) {
    std::size_t limit = static_cast<std::size_t>(page_size(r, "limit", 50));
    Hierarchy h = hierarchy_of(r.call, r.param("account_id"));
    Json after;  // the kernel's cursor: [µs, id] of the last item already shown
    if (std::string before = r.query("before"); !before.empty()) {
      auto colon = before.find('~');
      if (colon == std::string::npos || before.find_first_not_of("0123456789") != colon)
        throw Error(NUCLEO_INVALID_ARGUMENT, "before must be a next_before this route answered");
      after = Json::array({std::stoll(before.substr(0, colon)), before.substr(colon + 1)});
    }
    std::vector<Json> accounts{h.account};
    for (const auto& c : h.children) accounts.push_back(c);
    std::vector<std::vector<Json>> timelines;
    for (const auto& account : accounts) {
      // One more than a page from each: whether the merge has more than a page says
      // whether any of them has more.
      Json request{{"account_id", account["id"]}, {"limit", limit + 1}};
      if (!after.is_null()) request["after"] = after;
      Json page = host_->call(r.call, "accounts.timeline", request);
      std::vector<Json> items;
      for (auto& item : page["data"]) {
        item["account_id"] = account["id"];
        items.push_back(std::move(item));
      }
      timelines.push_back(std::move(items));
    }
    std::vector<Json> items = merge_newest(std::move(timelines), limit + 1);
    Json next;
    if (items.size() > limit) {
      items.resize(limit);
      next = std::to_string(micros_of(items.back()["at"])) + "~" + items.back()["id"].get<std::string>();
    }
    return Response{200, {{"account_id", h.account["id"]}, {"units", accounts.size() - 1}, {"items", items}, {"next_before", next}}};
  }

  Response purchases(const Request& r) {
    std::string as_of = r.query("on");
    if (as_of.empty()) as_of = date_of_micros(host_->now_micros(r.call));
    else if (!verticals::iso_date(as_of) || as_of.size() != 10 || as_of[4] != '-')
      throw Error(NUCLEO_INVALID_ARGUMENT, "on must be a date, YYYY-MM-DD");
    Hierarchy h = hierarchy_of(r.call, r.param("account_id"));
    auto orders_of = [&](const Json& account) {
      std::vector<Json> docs;
      for (auto& o : every_document(*host_, r.call, "orders", {{"where", {{"account_id", {{"eq", account["id"]}}}}}}))
        docs.push_back(o["document"]);
      return docs;
    };
    std::vector<Json> own = orders_of(h.account), all = own;
    Json units = Json::array();
    for (const auto& child : h.children) {
      std::vector<Json> theirs = orders_of(child);
      units.push_back({{"account", summary_of(child)}, {"purchases", purchase_summary(theirs, as_of)}});
      all.insert(all.end(), theirs.begin(), theirs.end());
    }
    return Response{200,
                    {{"account_id", h.account["id"]},
                     {"as_of", as_of},
                     {"own", purchase_summary(own, as_of)},
                     {"rolled_up", purchase_summary(all, as_of)},
                     {"units", units}}};
  }

  Response changes(const Request& r) {
    std::string import_id = r.query("import_id");
    if (import_id.empty()) import_id = latest_import(*host_, r.call);
    Json query{{"where", {{"import_id", {{"eq", import_id}}}}}, {"limit", page_size(r, "limit", 50)}};
    if (!r.query("cursor").empty()) query["cursor"] = r.query("cursor");
    Json page = host_->store_query(r.call, "registration_changes", query);
    Json data = Json::array();
    for (auto& c : page["data"]) data.push_back(c["document"]);
    return Response{200, {{"import_id", import_id.empty() ? Json() : Json(import_id)}, {"data", data}, {"next_cursor", page["next_cursor"]}}};
  }

  Response stale(const Request& r) {
    std::string latest = latest_import(*host_, r.call);
    Json data = Json::array();
    Json page{{"next_cursor", nullptr}, {"count", 0}};
    if (!latest.empty()) {
      Json query{{"where", {{"seen_in", {{"lt", latest}}}}}, {"count", true}, {"limit", page_size(r, "limit", 50)}};
      if (!r.query("cursor").empty()) query["cursor"] = r.query("cursor");
      page = host_->store_query(r.call, "establishments", query);
      for (auto& e : page["data"]) data.push_back(e["document"]);
    }
    return Response{200, {{"latest_import_id", latest.empty() ? Json() : Json(latest)},
                          {"count", page["count"]}, {"data", data}, {"next_cursor", page["next_cursor"]}}};
  }

  Json briefing(const nucleo_call* call, const Json& account) {
    std::string latest = latest_import(*host_, call);
    auto establishments = establishments_of(call, account);
    bool seen = std::any_of(establishments.begin(), establishments.end(),
                            [&](const Json& e) { return text(e["document"], "seen_in") == latest; });
    std::string today = date_of_micros(host_->now_micros(call));
    Json ending = host_->store_query(call, "contracts",
                                     {{"where", {{"account_id", {{"eq", account["id"]}}}, {"end", {{"gte", today}, {"lte", add_days(today, 90)}}}}},
                                      {"count", true}, {"limit", 1}});
    return {{"cnes", account.value("attributes", Json::object()).value("health.cnes", Json())},
            {"establishments", establishments.size()},
            {"stale", !latest.empty() && !establishments.empty() && !seen},
            {"contracts_ending_in_90_days", ending["count"]}};
  }

  // ---- Renewals and retention ------------------------------------------------------------

  // Contracts whose renewal notice has begun get one task each, due on the notice day:
  // marked on the contract, and written once per contract end whatever the reruns.
  Json check_renewals(const nucleo_call* call) {
    std::string today = date_of_micros(host_->now_micros(call));
    long default_notice = host_->tenant_settings(call)["settings"].value("renewal_notice_days", 90L);
    Json created = Json::array();
    auto contracts = every_document(*host_, call, "contracts",
                                    {{"where", {{"end", {{"gte", today}, {"lte", add_days(today, 730)}}}}}});
    for (const auto& c : contracts) {
      const Json& d = c["document"];
      std::string status = text(d, "status");
      if ((!status.empty() && status != "active") || d.contains("renewal_task_id")) continue;
      long notice = d.value("renewal_notice_days", default_notice);
      std::string due_on = add_days(text(d, "end"), -notice);
      if (due_on > today) continue;
      Json task = host_->call(call, "records.create",
                              {{"type", "task"},
                               {"data", {{"title", "Renovação do contrato " + text(d, "number") + " (vence em " + text(d, "end") + ")"},
                                         {"account_id", d["account_id"]},
                                         {"kind", "reminder"},
                                         {"due_at", std::max(due_on, today) + "T12:00:00Z"}}},
                               {"idempotency_key", "renewal:" + c["id"].get<std::string>() + ":" + text(d, "end")}});
      Json marked = d;
      marked["renewal_task_id"] = task["id"];
      host_->store_put(call, "contracts", c["id"].get<std::string>(), marked, c["version"].get<std::int64_t>());
      created.push_back({{"contract_id", c["id"]}, {"task_id", task["id"]}, {"end", d["end"]}});
    }
    return {{"tasks_created", created}};
  }

  // Clinical events past the tenant's retention period are deleted — each audited —
  // unless the contact they name is under a legal hold.
  Json apply_retention(const nucleo_call* call) {
    std::string today = date_of_micros(host_->now_micros(call));
    long days = host_->tenant_settings(call)["settings"].value("clinical_retention_days", 1825L);
    std::string cutoff = add_days(today, -days);
    std::set<std::string> held;
    Json holds = host_->call(call, "privacy.holds", {{"active", true}});
    for (const auto& hold : holds["data"]) held.insert(text(hold, "subject_id"));
    long deleted = 0, kept = 0;
    for (const auto& e : every_document(*host_, call, "clinical_events", {{"where", {{"occurred_on", {{"lt", cutoff}}}}}})) {
      if (held.count(text(e["document"], "contact_id"))) {
        ++kept;
        continue;
      }
      host_->store_delete(call, "clinical_events", e["id"].get<std::string>());
      ++deleted;
    }
    return {{"cutoff", cutoff}, {"deleted", deleted}, {"kept_under_hold", kept}};
  }

  // ---- FHIR R4 ----------------------------------------------------------------------------

  void add_fhir_routes(Host& host) {
    const std::string base = "/v1/x/org.nucleo.healthcare/fhir/";
    host.route("GET", "/fhir/Organization", Auth::bearer, [this, base](const Request& r) {
      Json request{{"type", "account"},
                   {"query", {{"filter_groups", Json::array({{{"filters", Json::array({{{"field", "attributes.health.cnes"},
                                                                                        {"op", "exists"}, {"value", true}}})}}})},
                              {"limit", page_size(r, "_count", 50)}}}};
      if (!r.query("cursor").empty()) {
        request["after"] = Json::parse(r.query("cursor"), nullptr, false);
        if (request["after"].is_discarded()) throw Error(NUCLEO_INVALID_ARGUMENT, "cursor is not one this route answered");
      }
      Json page = host_->call(r.call, "records.search", request);
      auto [matches, includes] = organizations(r.call, page["data"]);
      std::string self = base + "Organization?_count=" + std::to_string(page_size(r, "_count", 50));
      std::string next = page["next"].is_null() ? "" : self + "&cursor=" + percent_encoded(page["next"].dump());
      return fhir_response(fhir::searchset(matches, includes, self, next));
    });
    host.route("GET", "/fhir/Organization/{id}", Auth::bearer, [this](const Request& r) {
      Json account = host_->call(r.call, "records.get", {{"type", "account"}, {"id", fhir::nucleo_id_of(r.param("id"))}});
      auto [matches, includes] = organizations(r.call, Json::array({account}));
      return fhir_response(matches[0]);
    });
    host.route("GET", "/fhir/Location", Auth::bearer, [this, base](const Request& r) {
      Json query{{"limit", page_size(r, "_count", 50)}};
      if (!r.query("cursor").empty()) query["cursor"] = r.query("cursor");
      Json page = host_->store_query(r.call, "establishments", query);
      std::string self = base + "Location?_count=" + std::to_string(page_size(r, "_count", 50));
      std::string next = page["next_cursor"].is_null() ? "" : self + "&cursor=" + percent_encoded(page["next_cursor"]);
      return fhir_response(fhir::searchset(locations(r.call, page["data"]), Json::array(), self, next));
    });
    host.route("GET", "/fhir/PractitionerRole", Auth::bearer, [this, base](const Request& r) {
      Json query{{"limit", page_size(r, "_count", 50)}};
      if (!r.query("cursor").empty()) query["cursor"] = r.query("cursor");
      Json page = host_->store_query(r.call, "roles", query);
      std::string today = date_of_micros(host_->now_micros(r.call));
      Json roles = Json::array();
      for (const auto& role : page["data"]) roles.push_back(fhir::practitioner_role(role, today));
      std::string self = base + "PractitionerRole?_count=" + std::to_string(page_size(r, "_count", 50));
      std::string next = page["next_cursor"].is_null() ? "" : self + "&cursor=" + percent_encoded(page["next_cursor"]);
      return fhir_response(fhir::searchset(roles, Json::array(), self, next));
    });
    host.route("GET", "/fhir/Practitioner", Auth::bearer, [this, base](const Request& r) {
      // People are found through their roles, in contact id order: a page continues after
      // the last contact it showed.
      int count = page_size(r, "_count", 50);
      Json query{{"sort", "contact_id"}, {"limit", 200}};
      if (!r.query("cursor").empty()) query["where"] = {{"contact_id", {{"gt", r.query("cursor")}}}};
      std::vector<std::string> ids;
      Json page = host_->store_query(r.call, "roles", query);
      for (const auto& role : page["data"]) {
        std::string id = text(role["document"], "contact_id");
        if (ids.empty() || ids.back() != id) ids.push_back(id);
        if (static_cast<int>(ids.size()) > count) break;
      }
      bool more = static_cast<int>(ids.size()) > count;
      if (more) ids.pop_back();
      Json people = Json::array();
      for (const auto& id : ids) people.push_back(practitioner_of(r.call, id));
      std::string self = base + "Practitioner?_count=" + std::to_string(count);
      return fhir_response(fhir::searchset(people, Json::array(), self, more ? self + "&cursor=" + ids.back() : ""));
    });
    host.route("GET", "/fhir/export", Auth::bearer, [this, base](const Request& r) {
      Json output = Json::array();
      for (const char* type : {"Organization", "Location", "Practitioner", "PractitionerRole"})
        output.push_back({{"type", type}, {"url", base + "export/" + type}});
      return Response{200, {{"transactionTime", rfc3339(host_->now_micros(r.call))},
                            {"request", base + "export"},
                            {"requiresAccessToken", true},
                            {"output", output},
                            {"error", Json::array()}}};
    });
    host.route("GET", "/fhir/export/{type}", Auth::bearer, [this](const Request& r) {
      std::string ndjson;
      for (const auto& resource : every_resource(r.call, r.param("type"))) ndjson += resource.dump() + "\n";
      return Response::raw(200, "application/fhir+ndjson", ndjson);
    });
  }

  static Response fhir_response(const Json& resource) {
    return Response::raw(200, "application/fhir+json", resource.dump());
  }

  static std::string percent_encoded(const std::string& value) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : value) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
      else out += {'%', hex[c >> 4], hex[c & 15]};
    }
    return out;
  }

  // Organizations for `accounts`, and their mantenedoras that are not among them (to include).
  std::pair<Json, Json> organizations(const nucleo_call* call, const Json& accounts) const {
    std::map<std::string, Json> parents;  // mantenedora CNPJ → account (null: not in the CRM)
    for (const auto& a : accounts) {
      std::string cnpj = text(a.value("attributes", Json::object()), "health.mantenedora_cnpj");
      if (!cnpj.empty() && !parents.count(cnpj)) parents[cnpj] = account_with_tax_id(*host_, call, cnpj);
    }
    std::set<std::string> listed;
    for (const auto& a : accounts) listed.insert(a["id"]);
    Json matches = Json::array(), includes = Json::array();
    for (const auto& a : accounts) {
      const Json& parent = parents[text(a.value("attributes", Json::object()), "health.mantenedora_cnpj")];
      matches.push_back(fhir::organization(a, parent.is_object() ? parent["id"].get<std::string>() : ""));
    }
    for (const auto& [cnpj, parent] : parents)
      if (parent.is_object() && listed.insert(parent["id"]).second) includes.push_back(fhir::organization(parent, ""));
    return {matches, includes};
  }

  Json locations(const nucleo_call* call, const Json& establishments) const {
    std::map<std::string, Json> accounts;  // tax id → account
    Json out = Json::array();
    for (const auto& e : establishments) {
      std::string tax = text(e["document"], "account_tax_id");
      if (!tax.empty() && !accounts.count(tax)) accounts[tax] = account_with_tax_id(*host_, call, tax);
      const Json& owner = accounts[tax];
      out.push_back(fhir::location(e["document"], owner.is_object() ? owner["id"].get<std::string>() : ""));
    }
    return out;
  }

  Json practitioner_of(const nucleo_call* call, const std::string& contact_id) const {
    return fhir::practitioner(host_->call(call, "records.get", {{"type", "contact"}, {"id", contact_id}}));
  }

  std::vector<Json> every_resource(const nucleo_call* call, const std::string& type) const {
    std::vector<Json> out;
    if (type == "Organization") {
      Json filters = Json::array({{{"field", "attributes.health.cnes"}, {"op", "exists"}, {"value", true}}});
      auto [matches, includes] = organizations(call, Json(accounts_where(*host_, call, filters, SIZE_MAX)));
      for (auto& m : matches) out.push_back(std::move(m));
      for (auto& i : includes) out.push_back(std::move(i));
    } else if (type == "Location") {
      for (auto& l : locations(call, Json(every_document(*host_, call, "establishments", Json::object())))) out.push_back(std::move(l));
    } else if (type == "PractitionerRole" || type == "Practitioner") {
      std::string today = date_of_micros(host_->now_micros(call));
      std::set<std::string> people;
      for (const auto& role : every_document(*host_, call, "roles", Json::object())) {
        if (type == "PractitionerRole") out.push_back(fhir::practitioner_role(role, today));
        else if (people.insert(text(role["document"], "contact_id")).second)
          out.push_back(practitioner_of(call, text(role["document"], "contact_id")));
      }
    } else {
      throw Error(NUCLEO_NOT_FOUND, "no FHIR export of " + type + " (Organization, Location, Practitioner, PractitionerRole)");
    }
    return out;
  }

  Host* host_ = nullptr;
};

}  // namespace
}  // namespace nucleo::healthcare

NUCLEO_PLUGIN(nucleo::healthcare::Healthcare, "org.nucleo.healthcare", "1.0.0")
