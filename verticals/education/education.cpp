// The education vertical pack (docs/verticals/education.md), against the SDK alone:
// schools and universities by INEP and e-MEC code, the INEP school census as an import
// format, campuses and programs, a deal's buying committee with each member's engagement
// and sentiment and the roles still uncovered, and the academic calendar's decision
// windows with a task for the rep before each.
#include <algorithm>
#include <set>

#include "committee.hpp"
#include "common/dates.hpp"
#include "common/pack.hpp"
#include "demo.hpp"
#include "inep.hpp"
#include "nucleo/sdk/plugin.hpp"

namespace nucleo::education {
namespace {

using nucleo::sdk::Auth;
using nucleo::sdk::Caller;
using nucleo::sdk::Error;
using nucleo::sdk::Host;
using nucleo::sdk::Request;
using nucleo::sdk::Response;

using verticals::add_days;
using verticals::date_of_micros;
using verticals::each_document;
using verticals::records_where;
using verticals::rfc3339;
using verticals::stored;
using verticals::text;

using verticals::utf8_line;

class Education : public nucleo::sdk::Plugin {
 public:
  void init(Host& host, const Json&) override {
    host_ = &host;
    declare_attributes(host);
    host.line_importer({{"name", "inep_escolas"},
                        {"title", "INEP school census (microdados Censo Escolar, Tabela de Escola: ';'-separated, ISO-8859-1)"},
                        {"media_types", {"text/csv", "text/plain"}},
                        {"mapping", school_mapping()}},
                       [](const Host::ImportLine& line) { return school_line(line); });
    host.route("GET", "/deals/{deal_id}/committee", Auth::bearer, [this](const Request& r) {
      return Response{200, committee(r.call, r.param("deal_id"))};
    });
    host.route("PUT", "/deals/{deal_id}/committee/{contact_id}", Auth::bearer, [this](const Request& r) { return note(r); });
    host.route("GET", "/institutions/{account_id}/calendar", Auth::bearer, [this](const Request& r) { return calendar(r); });
    host.route("POST", "/calendar-alerts/run", Auth::bearer, [this](const Request& r) {
      Caller who = r.caller();
      if (!who.unrestricted() && who.role != "admin" && who.role != "manager")
        throw Error(NUCLEO_FORBIDDEN, "the " + who.role + " role may not run the calendar alerts");
      return Response{200, {{"tasks_created", send_alerts(r.call)}}};
    });
    host.briefing_section("institution", "Institution (education)",
                          [this](const nucleo_call* call, const Json& account) { return briefing(call, account); });
    host.job("calendar-alerts", "cron 0 7 * * *", nucleo::sdk::Scope::tenant,
             [this](const nucleo::sdk::Job& j) { send_alerts(j.call); }, "tenant");
    // `nucleo demo --vertical education` runs it once in the new demo tenant.
    host.job("demo", "", nucleo::sdk::Scope::tenant, [this](const nucleo::sdk::Job& j) {
      Json written = seed_demo(*host_, j.call, j.payload().value("seed", 20261204u));
      written["tasks"] = send_alerts(j.call);
      host_->log(nucleo::sdk::Level::info, "demo data: " + written.dump());
    });
  }

 private:
  static void declare_attributes(Host& host) {
    host.declare_attributes(
        "account",
        {{"edu.kind", {{"type", "string"}, {"enum", {"school", "university", "college", "technical", "school_network"}}}},
         {"edu.inep_code", {{"type", "string"}, {"pattern", "^[0-9]{8}$"}, {"description", "the school's INEP code (Censo Escolar)"}}},
         {"edu.emec_code", {{"type", "string"}, {"pattern", "^[0-9]{1,7}$"}, {"description", "the institution's e-MEC code (CO_IES)"}}},
         {"edu.administration", {{"type", "string"}, {"enum", {"federal", "estadual", "municipal", "privada"}}}}});
  }

  // ---- The census import --------------------------------------------------------------------

  // Every school is a registry record (its INEP code the id); a private school with a CNPJ
  // is also an account, keyed by it — what a supplier sells to.
  static Json school_line(const Host::ImportLine& line) {
    if (line.number == 1) {
      line.kept = {{"columns", school_header(utf8_line(line.text))}};
      return nullptr;
    }
    std::string row = utf8_line(line.text);
    if (!row.empty() && row.back() == '\r') row.pop_back();
    if (row.empty()) return nullptr;
    auto parsed = school_entry(verticals::Columns(line.kept["columns"].get<std::vector<std::string>>()), row);
    if (auto* problem = std::get_if<std::string>(&parsed)) return {{"error", *problem}};
    Json school = std::get<Json>(parsed);
    school["seen_in"] = line.import_id;
    Json rows = Json::array();
    if (school.contains("cnpj"))
      rows.push_back({{"fields", {{"name", school["name"]}, {"cnpj", school["cnpj"]}, {"inep_code", school["inep_code"]},
                                  {"kind", "school"}, {"administration", school["administration"]}}}});
    rows.push_back({{"record", {{"collection", "schools"}, {"id", school["inep_code"]}, {"document", school}}}});
    return rows;
  }

  // ---- The buying committee -----------------------------------------------------------------

  // Each contact on the deal with their role, their last live interaction, whether they
  // took part in one since the deal entered its stage (on this deal or on none, as the
  // stage gates count it) and within engagement_days, and the sentiment a rep noted.
  Json committee(const nucleo_call* call, const std::string& deal_id) const {
    Json deal = host_->call(call, "records.get", {{"type", "deal"}, {"id", deal_id}});  // 404 unless visible
    long engagement_days = host_->tenant_settings(call)["settings"].value("engagement_days", 60L);
    // Instants compared as µs: the kernel writes RFC 3339 with or without a fraction.
    auto micros = [](const std::string& t) { return t.size() < 20 ? std::int64_t{0} : verticals::micros_of(t); };
    std::int64_t recent_since = host_->now_micros(call) - engagement_days * 86'400'000'000LL;
    std::string stage_since = text(deal, "stage_entered_at");
    std::vector<Json> members;
    Json opposed = Json::array();
    for (const auto& c : deal.value("contacts", Json::array())) {
      std::string contact_id = c.value("contact_id", "");
      Json member{{"contact_id", contact_id}, {"role", c.value("role", Json())}};
      if (member["role"].is_null()) member.erase("role");
      try {
        member["name"] = host_->call(call, "records.get", {{"type", "contact"}, {"id", contact_id}}).value("name", "");
      } catch (const Error& e) {
        if (e.status() != NUCLEO_NOT_FOUND) throw;  // a contact the caller may not see keeps its id only
      }
      bool in_stage = false;
      for (const auto& i : records_where(*host_, call, "interaction",
                                         Json::array({{{"field", "contact_id"}, {"op", "eq"}, {"value", contact_id}}}), 500)) {
        std::string at = text(i, "occurred_at").empty() ? text(i, "created_at") : text(i, "occurred_at");
        std::string on_deal = text(i, "deal_id");
        if (text(i, "type") == "note" || text(i, "type") == "system") continue;  // not an exchange with the person
        if (!member.contains("last_interaction_at") || micros(at) > micros(member["last_interaction_at"].get<std::string>())) {
          member["last_interaction_at"] = at;
          member["last_interaction_type"] = i.value("type", "");
        }
        if ((on_deal.empty() || on_deal == deal_id) && micros(at) >= micros(stage_since)) in_stage = true;
      }
      member["engaged_in_stage"] = in_stage;
      member["engaged_recently"] =
          member.contains("last_interaction_at") && micros(text(member, "last_interaction_at")) >= recent_since;
      if (auto noted = stored(*host_, call, "committee_notes", note_id(deal_id, contact_id))) {
        const Json& n = (*noted)["document"];
        member["sentiment"] = n["sentiment"];
        if (n.contains("note")) member["note"] = n["note"];
        if (n["sentiment"] == "opposed") opposed.push_back(contact_id);
      }
      members.push_back(std::move(member));
    }
    return {{"deal_id", deal_id}, {"stage_entered_at", stage_since}, {"members", members},
            {"coverage", committee_coverage(members, committee_roles())}, {"opposed", opposed}};
  }

  static std::string note_id(const std::string& deal_id, const std::string& contact_id) { return deal_id + "." + contact_id; }

  Response note(const Request& r) {
    Caller who = r.caller();
    if (!who.unrestricted() && (who.role == "auditor" || who.role == "marketing"))
      throw Error(NUCLEO_FORBIDDEN, "the " + who.role + " role may not note a committee member's sentiment");
    std::string deal_id = r.param("deal_id"), contact_id = r.param("contact_id");
    Json deal = host_->call(r.call, "records.get", {{"type", "deal"}, {"id", deal_id}});
    const Json contacts = deal.value("contacts", Json::array());
    bool member = std::any_of(contacts.begin(), contacts.end(), [&](const Json& c) { return c.value("contact_id", "") == contact_id; });
    if (!member) throw Error(NUCLEO_NOT_FOUND, contact_id + " is not on deal " + deal_id + ": add them to its contacts first");
    Json document{{"deal_id", deal_id}, {"contact_id", contact_id}, {"sentiment", r.body.at("sentiment")},
                  {"noted_by", who.user_id.empty() ? who.actor_id : who.user_id}, {"noted_at", rfc3339(host_->now_micros(r.call))}};
    if (r.body.contains("note")) document["note"] = r.body["note"];
    return Response{200, host_->store_put(r.call, "committee_notes", note_id(deal_id, contact_id), document)["document"]};
  }

  // ---- The academic calendar ------------------------------------------------------------------

  Response calendar(const Request& r) const {
    Json account = host_->call(r.call, "records.get", {{"type", "account"}, {"id", r.param("account_id")}});
    std::string from = r.query("from");
    if (from.empty()) from = date_of_micros(host_->now_micros(r.call));
    else if (auto date = verticals::iso_date(from); !date || *date != from)
      throw Error(NUCLEO_INVALID_ARGUMENT, "from must be a date, YYYY-MM-DD");
    Json windows = Json::array();
    each_document(*host_, r.call, "calendar_windows", {{"where", {{"account_id", {{"eq", account["id"]}}}}}, {"sort", "start"}},
                  [&](Json d) {
                    if (text(d["document"], "end") < from) return;  // over
                    Json w = d["document"];
                    w["id"] = d["id"];
                    windows.push_back(std::move(w));
                  });
    return Response{200, {{"account_id", account["id"]}, {"windows", windows}}};
  }

  // Once a day: a task for the institution's owner when a decision window opens within its
  // alert days (the window's alert_days, else the tenant's window_alert_days) — the budget
  // is set, enrolment opens, a term starts: the proposal must be in before. Once per window.
  long send_alerts(const nucleo_call* call) {
    long default_days = host_->tenant_settings(call)["settings"].value("window_alert_days", 45L);
    std::string today = date_of_micros(host_->now_micros(call));
    long created = 0;
    each_document(*host_, call, "calendar_windows", {{"where", {{"start", {{"gte", today}, {"lte", add_days(today, 366)}}}}}},
                  [&](Json d) {
                    Json w = d["document"];
                    if (w.contains("alert_task_id")) return;
                    long days = w.value("alert_days", default_days);
                    std::string due = add_days(text(w, "start"), -days);
                    if (due > today) return;
                    Json account = host_->call(call, "records.get", {{"type", "account"}, {"id", w["account_id"]}});
                    Json data{{"title", "Janela de decisão: " + text(w, "name") + " começa em " + text(w, "start") +
                                            " — proposta antes disso"},
                              {"account_id", w["account_id"]}, {"kind", "reminder"}, {"due_at", std::max(due, today) + "T12:00:00Z"},
                              {"origin_rule", "org.nucleo.education/calendar-window"}};
                    if (account.value("owner_id", Json()).is_string()) data["assignee_id"] = account["owner_id"];
                    std::string id = d["id"];
                    Json task = host_->call(call, "records.create",
                                            {{"type", "task"}, {"data", data}, {"idempotency_key", "edu:window:" + id}});
                    w["alert_task_id"] = task["id"];
                    host_->store_put(call, "calendar_windows", id, w, d["version"].get<std::int64_t>());
                    ++created;
                  });
    return created;
  }

  // ---- The customer 360 ---------------------------------------------------------------------

  Json briefing(const nucleo_call* call, const Json& account) const {
    std::string today = date_of_micros(host_->now_micros(call));
    const Json attributes = account.value("attributes", Json::object());
    long campuses = 0, programs = 0, students = 0;
    each_document(*host_, call, "campuses", {{"where", {{"account_id", {{"eq", account["id"]}}}}}}, [&](Json) { ++campuses; });
    each_document(*host_, call, "programs", {{"where", {{"account_id", {{"eq", account["id"]}}}}}}, [&](Json d) {
      ++programs;
      students += d["document"].value("students", 0L);
    });
    Json next;
    Json page = host_->store_query(call, "calendar_windows",
                                   {{"where", {{"account_id", {{"eq", account["id"]}}}, {"start", {{"gte", today}}}}},
                                    {"sort", "start"}, {"limit", 1}});
    if (!page["data"].empty()) {
      const Json& w = page["data"][0]["document"];
      next = {{"name", w["name"]}, {"kind", w["kind"]}, {"start", w["start"]}};
    }
    return {{"inep_code", attributes.value("edu.inep_code", Json())}, {"emec_code", attributes.value("edu.emec_code", Json())},
            {"campuses", campuses}, {"programs", programs}, {"students", students}, {"next_window", next}};
  }

  Host* host_ = nullptr;
};

}  // namespace
}  // namespace nucleo::education

NUCLEO_PLUGIN(nucleo::education::Education, "org.nucleo.education", "1.0.0")
