// The finance vertical pack (docs/verticals/finance.md), against the SDK alone: KYC of
// parties (accounts and contacts) with beneficial owners and a four-eyes decision, a
// KYC gate on deals, and PEP screening against the CGU's monthly list with a reviewer's
// disposition of every hit.
#include <algorithm>
#include <ctime>
#include <optional>
#include <set>

#include "common/pack.hpp"
#include "common/registry.hpp"
#include "nucleo/sdk/plugin.hpp"
#include "pep.hpp"

namespace nucleo::finance {
namespace {

using nucleo::sdk::Auth;
using nucleo::sdk::Caller;
using nucleo::sdk::Error;
using nucleo::sdk::Host;
using nucleo::sdk::Reason;
using nucleo::sdk::Request;
using nucleo::sdk::Response;

using verticals::each_document;
using verticals::rfc3339;
using verticals::stored;
using verticals::text;

std::string today_of(const Host& host, const nucleo_call* call) { return rfc3339(host.now_micros(call)).substr(0, 10); }

std::string kyc_id(const std::string& party_id) { return "kyc-" + party_id; }

class Finance : public nucleo::sdk::Plugin {
 public:
  void init(Host& host, const Json&) override {
    host_ = &host;
    // A person's CPF is hers; it is what PEP screening compares (its visible digits).
    host.declare_attributes(
        "contact", {{"finance.cpf", {{"type", "string"}, {"format", "cpf"}, {"personal", true}}},
                    {"finance.investor_profile", {{"type", "string"}, {"enum", {"conservador", "moderado", "arrojado"}},
                                                  {"description", "suitability profile (CVM Resolução 30/2021)"}}},
                    {"finance.profile_assessed_on", {{"type", "string"}, {"format", "date"}}}});
    host.declare_attributes("account", {{"finance.relationship_ended_on",
                                         {{"type", "string"}, {"format", "date"},
                                          {"description", "when the relationship ended: retention counts from it"}}}});
    host.declare_attributes("deal", {{"finance.product_risk", {{"type", "string"}, {"enum", {"baixo", "medio", "alto"}},
                                                              {"description", "the risk of the product the deal offers"}}}});
    host.line_importer({{"name", "cgu_pep"},
                        {"title", "CGU list of politically exposed persons (AAAAMM_PEP.csv, ';'-separated, ISO-8859-1)"},
                        {"media_types", {"text/csv", "text/plain"}},
                        {"mapping", pep_mapping()}},
                       [](const Host::ImportLine& line) { return pep_line(line); });
    host.route("PUT", "/parties/{party_id}/kyc", Auth::bearer, [this](const Request& r) { return prepare_kyc(r); });
    host.route("GET", "/parties/{party_id}/kyc", Auth::bearer, [this](const Request& r) {
      party(r.call, r.param("party_id"));  // 404 unless the caller may see the party
      auto kyc = stored(*host_, r.call, "kyc", kyc_id(r.param("party_id")));
      if (!kyc) throw Error(NUCLEO_NOT_FOUND, "no KYC of " + r.param("party_id"));
      return Response{200, (*kyc)["document"]};
    });
    host.route("POST", "/parties/{party_id}/kyc/decision", Auth::bearer, [this](const Request& r) { return decide_kyc(r); });
    host.route("GET", "/parties/{party_id}/regulator-export", Auth::bearer,
               [this](const Request& r) { return Response{200, regulator_export(r)}; });
    host.route("POST", "/screening/run", Auth::bearer, [this](const Request& r) {
      require_role(r, {"admin", "manager"}, "start a screening");
      return Response{202, {{"job_id", host_->enqueue(r.call, "pep-screening", {{"force", true}})}}};
    });
    host.route("GET", "/screening/runs", Auth::bearer, [this](const Request& r) {
      return Response{200, page_of(r, "screening_runs", {{"sort", "-list_import_id"}})};
    });
    host.route("GET", "/screening/hits", Auth::bearer, [this](const Request& r) {
      Json query = Json::object();
      if (!r.query("disposition").empty()) query["where"] = {{"disposition", {{"eq", r.query("disposition")}}}};
      return Response{200, page_of(r, "screening_hits", query)};
    });
    host.route("POST", "/screening/hits/{id}/disposition", Auth::bearer, [this](const Request& r) { return dispose(r); });
    host.job("pep-screening", "every 30m", nucleo::sdk::Scope::tenant,
             [this](const nucleo::sdk::Job& j) { screen(j.call, j.payload().value("force", false)); });
    host.job("kyc-expiry", "cron 0 6 * * *", nucleo::sdk::Scope::tenant,
             [this](const nucleo::sdk::Job& j) { expire_kyc(j.call); }, "tenant");
    host.job("retention", "cron 30 2 * * *", nucleo::sdk::Scope::tenant,
             [this](const nucleo::sdk::Job& j) { apply_retention(j.call); }, "tenant");
    host.route("POST", "/retention", Auth::bearer, [this](const Request& r) {
      require_role(r, {"admin"}, "apply the retention rule");
      return Response{200, apply_retention(r.call)};
    });
    host.validate("deal", [this](const nucleo_call* call, const Json& change) {
      std::vector<Reason> reasons = kyc_gate(call, change);
      for (auto& r : suitability_gate(call, change)) reasons.push_back(std::move(r));
      return reasons;
    });
    // `nucleo demo --vertical finance` runs it once in the new demo tenant.
    host.job("demo", "", nucleo::sdk::Scope::tenant, [this](const nucleo::sdk::Job& j) { seed_demo(j.call); });
  }

 private:
  void require_role(const Request& r, const std::set<std::string>& roles, const std::string& what) const {
    Caller who = r.caller();
    if (!who.unrestricted() && !roles.count(who.role))
      throw Error(NUCLEO_FORBIDDEN, "the " + who.role + " role may not " + what);
  }

  Json page_of(const Request& r, const std::string& collection, Json query) const {
    Caller who = r.caller();
    if (!who.unrestricted() && who.role != "admin" && who.role != "manager" && who.role != "auditor")
      throw Error(NUCLEO_FORBIDDEN, "screening is for compliance: admin, manager and auditor roles");
    std::string limit = r.query("limit");
    query["limit"] = limit.empty() ? 50 : std::stoi(limit);
    if (!r.query("cursor").empty()) query["cursor"] = r.query("cursor");
    Json page = host_->store_query(r.call, collection, query);
    Json data = Json::array();
    for (const auto& d : page["data"]) {
      Json item = d["document"];
      item["id"] = d["id"];
      data.push_back(std::move(item));
    }
    return {{"data", data}, {"next_cursor", page["next_cursor"]}};
  }

  // The party (an account or a contact) as the caller sees it: 404 otherwise.
  Json party(const nucleo_call* call, const std::string& id) const {
    std::string type = id.rfind("acc_", 0) == 0 ? "account" : id.rfind("con_", 0) == 0 ? "contact" : "";
    if (type.empty()) throw Error(NUCLEO_NOT_FOUND, id + " is not an account or a contact");
    return host_->call(call, "records.get", {{"type", type}, {"id", id}});
  }

  // ---- KYC ----------------------------------------------------------------------------

  Response prepare_kyc(const Request& r) {
    require_role(r, {"admin", "manager", "sales", "support", "integration"}, "prepare a KYC");
    std::string id = r.param("party_id");
    Json p = party(r.call, id);
    Json document = r.body;
    document["party_id"] = id;
    document["party_type"] = id.rfind("acc_", 0) == 0 ? "account" : "contact";
    if (document["party_type"] == "contact") document["contact_id"] = id;
    document["status"] = "pending";  // whatever it was: a change is decided again
    document["prepared_by"] = r.caller().user_id.empty() ? r.caller().actor_id : r.caller().user_id;
    document["prepared_at"] = rfc3339(host_->now_micros(r.call));
    return Response{200, host_->store_put(r.call, "kyc", kyc_id(id), document)["document"]};
  }

  // Four eyes: a reviewer of an allowed role, who did not prepare it, decides.
  Response decide_kyc(const Request& r) {
    std::string id = r.param("party_id");
    Caller who = r.caller();  // who may decide, before anything about the party is told
    Json roles = host_->tenant_settings(r.call)["settings"].value("kyc_reviewer_roles", Json::array({"admin", "manager"}));
    if (!who.unrestricted() && std::find(roles.begin(), roles.end(), Json(who.role)) == roles.end())
      throw Error(NUCLEO_FORBIDDEN, "KYC decisions are for the " + roles.dump() + " roles, not " + who.role);
    party(r.call, id);
    auto kyc = stored(*host_, r.call, "kyc", kyc_id(id));
    if (!kyc) throw Error(NUCLEO_NOT_FOUND, "no KYC of " + id + " to decide");
    Json document = (*kyc)["document"];
    if (document["status"] != "pending")
      throw Error(NUCLEO_CONFLICT, "the KYC of " + id + " is " + document["status"].get<std::string>() + ", not pending");
    std::string decider = who.user_id.empty() ? who.actor_id : who.user_id;
    if (decider == text(document, "prepared_by"))
      throw Error(NUCLEO_FORBIDDEN, "four eyes: whoever prepared a KYC does not decide it");
    document["status"] = r.body.at("status");
    document["decided_by"] = decider;
    document["decided_at"] = rfc3339(host_->now_micros(r.call));
    if (r.body.contains("note")) document["decision_note"] = r.body["note"];
    return Response{200, host_->store_put(r.call, "kyc", kyc_id(id), document, (*kyc)["version"].get<std::int64_t>())["document"]};
  }

  void expire_kyc(const nucleo_call* call) {
    std::string today = today_of(*host_, call);
    each_document(*host_, call, "kyc", {{"where", {{"status", {{"eq", "approved"}}}, {"review_due", {{"lt", today}}}}}},
                  [&](const Json& d) {
                    Json document = d["document"];
                    document["status"] = "expired";
                    host_->store_put(call, "kyc", d["id"].get<std::string>(), document, d["version"].get<std::int64_t>());
                  });
  }

  // A deal moving past a gate stage needs its account's KYC approved and not past its
  // review date: with the stage gates' reasons, the 422 says what is missing.
  std::vector<Reason> kyc_gate(const nucleo_call* call, const Json& change) const {
    const Json& after = change["after"];
    const Json& before = change["before"];
    std::string to = text(after, "stage_id");
    if (to.empty() || (before.is_object() && text(before, "stage_id") == to)) return {};
    Json gates = host_->tenant_settings(call)["settings"].value("kyc_gate_stages", Json::array());
    if (gates.empty()) return {};
    Json target = host_->call(call, "records.get", {{"type", "stage"}, {"id", to}});
    Json stages = host_->call(call, "records.search",
                              {{"type", "stage"},
                               {"query", {{"filter_groups", Json::array({{{"filters", Json::array({{{"field", "pipeline_id"}, {"op", "eq"},
                                                                                                     {"value", target["pipeline_id"]}}})}}})},
                                          {"limit", 100}}}});
    bool past_a_gate = false;
    for (const auto& s : stages["data"])
      if (std::find(gates.begin(), gates.end(), s.value("key", Json())) != gates.end() &&
          target.value("position", 0) > s.value("position", 0))
        past_a_gate = true;
    if (!past_a_gate) return {};
    std::string account = text(after, "account_id");
    auto kyc = stored(*host_, call, "kyc", kyc_id(account));
    std::string status = kyc ? text((*kyc)["document"], "status") : "missing";
    std::string due = kyc ? text((*kyc)["document"], "review_due") : "";
    if (status == "approved" && (due.empty() || due >= today_of(*host_, call))) return {};
    std::string why = status == "approved" ? "was due for review on " + due : "is " + status;
    return {{"stage_id", "the KYC of account " + account + " " + why + ": it must be approved before the deal moves past " +
                             gates.dump()}};
  }

  // ---- The regulator's export ---------------------------------------------------------------

  // Everything about one party for an examiner, as one file `nucleo audit verify` checks
  // offline: the party (and an account's contacts), its KYC, screening hits and
  // suitability acknowledgements, each entity as it was on `as_of`, and every audit event
  // about them up to then with its inclusion proof to the newest signed checkpoint.
  Json regulator_export(const Request& r) {
    require_role(r, {"admin", "auditor"}, "export a party for a regulator");
    std::string id = r.param("party_id"), as_of = r.query("on");  // as of that day
    if (as_of.empty()) as_of = today_of(*host_, r.call);
    if (!verticals::iso_date(as_of) || as_of.size() != 10 || as_of[4] != '-')
      throw Error(NUCLEO_INVALID_ARGUMENT, "on must be a date, YYYY-MM-DD");
    Json party_record = party(r.call, id);
    std::vector<std::string> people;
    if (id.rfind("acc_", 0) == 0) {
      Json contacts = host_->call(r.call, "records.search",
                                  {{"type", "contact"},
                                   {"query", {{"filter_groups", Json::array({{{"filters", Json::array({{{"field", "account_id"},
                                                                                                          {"op", "eq"}, {"value", id}}})}}})},
                                              {"limit", 100}}}});
      for (const auto& c : contacts["data"]) people.push_back(c["id"]);
    } else {
      people.push_back(id);
    }
    Json entities = Json::array({{{"type", id.rfind("acc_", 0) == 0 ? "account" : "contact"}, {"id", id}}});
    Json bundle{{"format", "nucleo-party-bundle"}, {"version", 1}, {"party_id", id}, {"as_of", as_of},
                {"exported_at", rfc3339(host_->now_micros(r.call))}, {"party", party_record},
                {"kyc", Json::array()}, {"screening_hits", Json::array()}, {"suitability_acks", Json::array()}};
    auto add = [&](const char* collection, const Json& d) {
      Json document = d["document"];
      document["id"] = d["id"];
      bundle[collection].push_back(document);
      entities.push_back({{"type", "plugin_record"}, {"id", "org.nucleo.finance/" + std::string(collection) + "/" + d["id"].get<std::string>()}});
    };
    std::vector<std::string> parties = people;
    if (id.rfind("acc_", 0) == 0) parties.push_back(id);
    for (const auto& p : parties) {
      if (p != id) entities.push_back({{"type", "contact"}, {"id", p}});
      if (auto kyc = stored(*host_, r.call, "kyc", kyc_id(p))) add("kyc", *kyc);
      for (const char* collection : {"screening_hits", "suitability_acks"})
        each_document(*host_, r.call, collection, {{"where", {{"contact_id", {{"eq", p}}}}}}, [&](const Json& d) { add(collection, d); });
    }
    each_document(*host_, r.call, "screening_hits", {{"where", {{"subject_id", {{"gt", id + "."}, {"lt", id + "/"}}}}}},
                  [&](const Json& d) { add("screening_hits", d); });
    Json trail = host_->call(r.call, "audit.proofs", {{"entities", entities}, {"as_of", as_of + "T23:59:59Z"}});
    bundle["history"] = trail["records"];
    bundle["checkpoint"] = trail["checkpoint"];
    bundle["tree_size"] = trail["tree_size"];
    bundle["events"] = trail["events"];
    return bundle;
  }

  // ---- Retention --------------------------------------------------------------------------

  // What is kept about a relationship goes some years after it ended (the account's
  // finance.relationship_ended_on), per record type (kyc_retention_years,
  // screening_retention_years, suitability_retention_years): the KYC of the account and of
  // its contacts, their screening hits (its owners' too) and suitability acknowledgements —
  // unless one of its contacts is under a legal hold, which keeps the whole relationship.
  // Each deletion is audited.
  Json apply_retention(const nucleo_call* call) {
    Json settings = host_->tenant_settings(call)["settings"];
    std::string today = today_of(*host_, call);
    std::set<std::string> held, ended, kept;
    Json holds = host_->call(call, "privacy.holds", {{"active", true}});
    for (const auto& h : holds["data"]) held.insert(text(h, "subject_id"));
    long deleted = 0;
    Json cutoffs = Json::object();
    for (const auto& retention : {std::pair<std::string, const char*>{"kyc", "kyc_retention_years"},
                                  {"screening_hits", "screening_retention_years"},
                                  {"suitability_acks", "suitability_retention_years"}}) {
      // Named, not bound: Clang 14 cannot capture structured bindings in the lambdas below.
      const std::string& collection = retention.first;
      const char* setting = retention.second;
      std::string cutoff = std::to_string(std::stoi(today.substr(0, 4)) - settings.value(setting, 5L)) + today.substr(4);
      cutoffs[collection] = cutoff;
      for_each_ended(call, cutoff, [&](const std::string& account, const std::vector<std::string>& people) {
        if (std::any_of(people.begin(), people.end(), [&](const std::string& p) { return held.count(p) > 0; })) {
          kept.insert(account);
          return;
        }
        ended.insert(account);
        std::vector<std::string> parties = people;
        parties.push_back(account);
        auto remove = [&](const Json& d) {
          host_->store_delete(call, collection, d["id"].get<std::string>());
          ++deleted;
        };
        for (const auto& party : parties) {
          if (collection == "kyc") {
            if (auto kyc = stored(*host_, call, "kyc", kyc_id(party))) remove(*kyc);
          } else {
            each_document(*host_, call, collection, {{"where", {{"contact_id", {{"eq", party}}}}}}, remove);
          }
        }
        if (collection == "screening_hits")  // the hits on its beneficial owners ("acc_….owner0", …)
          each_document(*host_, call, collection, {{"where", {{"subject_id", {{"gt", account + "."}, {"lt", account + "/"}}}}}},
                        remove);
      });
    }
    return {{"cutoffs", cutoffs}, {"relationships_ended", ended.size()}, {"kept_under_hold", kept.size()},
            {"records_deleted", deleted}};
  }

  // Each account whose relationship ended before `cutoff`, with its contacts.
  template <typename Each>
  void for_each_ended(const nucleo_call* call, const std::string& cutoff, Each each) const {
    Json request{{"type", "account"},
                 {"query", {{"filter_groups", Json::array({{{"filters", Json::array({{{"field", "attributes.finance.relationship_ended_on"},
                                                                                      {"op", "lt"}, {"value", cutoff}}})}}})},
                            {"limit", 100}}}};
    for (;;) {
      Json page = host_->call(call, "records.search", request);
      for (const auto& account : page["data"]) {
        Json contacts = host_->call(call, "records.search",
                                    {{"type", "contact"},
                                     {"query", {{"filter_groups", Json::array({{{"filters", Json::array({{{"field", "account_id"},
                                                                                                            {"op", "eq"}, {"value", account["id"]}}})}}})},
                                                {"limit", 100}}}});
        std::vector<std::string> people;
        for (const auto& c : contacts["data"]) people.push_back(c["id"]);
        each(account["id"].get<std::string>(), people);
      }
      if (page["next"].is_null()) return;
      request["after"] = page["next"];
    }
  }

  // ---- Suitability ----------------------------------------------------------------------

  // A deal offering a product of some risk advances only for an investor whose profile,
  // assessed within the validity period, admits it — or who acknowledged in writing that
  // it does not (an acknowledgement of this deal, this contact and this risk).
  std::vector<Reason> suitability_gate(const nucleo_call* call, const Json& change) const {
    const Json& after = change["after"];
    const Json& before = change["before"];
    std::string risk = text(after.value("attributes", Json::object()), "finance.product_risk");
    std::string to = text(after, "stage_id"), from = before.is_object() ? text(before, "stage_id") : "";
    // Only an advance: a deal created into its stage, or moved back, is never refused.
    if (risk.empty() || to.empty() || from.empty() || to == from) return {};
    Json target = host_->call(call, "records.get", {{"type", "stage"}, {"id", to}});
    Json source = host_->call(call, "records.get", {{"type", "stage"}, {"id", from}});
    if (target.value("position", 0) <= source.value("position", 0)) return {};
    std::string investor;
    for (const auto& c : after.value("contacts", Json::array()))
      if (investor.empty() || c.value("role", "") == "investor") investor = text(c, "contact_id");
    if (investor.empty())
      return {{"contacts", "a deal offering a product of risk " + risk + " names its investor (a contact, role investor)"}};
    Json contact = host_->call(call, "records.get", {{"type", "contact"}, {"id", investor}});
    const Json& attributes = contact.value("attributes", Json::object());
    std::string profile = text(attributes, "finance.investor_profile"), assessed = text(attributes, "finance.profile_assessed_on");
    long months = host_->tenant_settings(call)["settings"].value("suitability_valid_months", 24L);
    std::string today = today_of(*host_, call);
    std::string oldest = std::to_string(std::stoi(today.substr(0, 4)) - months / 12) + today.substr(4);
    std::string problem;
    if (profile.empty()) problem = "has no investor profile";
    else if (assessed.empty() || assessed < oldest) problem = "has a profile assessed more than " + std::to_string(months) + " months ago";
    else if (!admits(profile, risk)) problem = "is " + profile + ", which does not admit a product of risk " + risk;
    if (problem.empty()) return {};
    Json acks = host_->store_query(call, "suitability_acks", {{"where", {{"deal_id", {{"eq", after["id"]}}}, {"contact_id", {{"eq", investor}}}}}});
    for (const auto& a : acks["data"])
      if (text(a["document"], "product_risk") == risk) return {};
    return {{"attributes.finance.product_risk", "investor " + investor + " " + problem +
                                                     ": the deal advances with the investor's written acknowledgement (POST " +
                                                     "/v1/x/org.nucleo.finance/suitability_acks)"}};
  }

  static bool admits(const std::string& profile, const std::string& risk) {
    if (profile == "arrojado") return true;
    if (profile == "moderado") return risk != "alto";
    return risk == "baixo";
  }

  // ---- PEP list and screening ---------------------------------------------------------

  static Json pep_line(const Host::ImportLine& line) {
    if (line.number == 1) {
      line.kept = {{"columns", pep_header(verticals::latin1_to_utf8(line.text))}};
      return nullptr;
    }
    if (line.text.empty()) return nullptr;
    if (verticals::holds_utf8_sequences(line.text))
      return {{"error", "the line holds UTF-8 sequences, but the CGU publishes the list in ISO-8859-1: re-export it as ISO-8859-1"}};
    auto parsed = pep_entry(verticals::Columns(line.kept["columns"].get<std::vector<std::string>>()),
                            verticals::latin1_to_utf8(line.text));
    if (auto* problem = std::get_if<std::string>(&parsed)) return {{"error", *problem}};
    Json entry = std::get<Json>(parsed);
    std::string id = entry["id"];
    entry.erase("id");
    entry["seen_in"] = line.import_id;
    return {{"record", {{"collection", "pep_list"}, {"id", id}, {"document", entry}}}};
  }

  // Screens every contact (by CPF and name, or name alone) and every beneficial owner of
  // a KYC against the latest list, once per list unless forced. A hit is recorded once
  // per person and entry, pending a reviewer; a later list keeps its disposition.
  void screen(const nucleo_call* call, bool force) {
    Json latest_page = host_->store_query(call, "pep_list", {{"sort", "-seen_in"}, {"limit", 1}});
    if (latest_page["data"].empty()) return;
    std::string list = text(latest_page["data"][0]["document"], "seen_in");
    if (!force && stored(*host_, call, "screening_runs", list)) return;
    std::int64_t started = host_->now_micros(call);
    PepIndex index;
    each_document(*host_, call, "pep_list", {{"where", {{"seen_in", {{"eq", list}}}}}}, [&](const Json& d) {
      Json entry = d["document"];
      entry["id"] = d["id"];
      index.add(entry);
    });
    std::string today = today_of(*host_, call);
    long contacts = 0, owners = 0, name_only = 0, hits = 0;
    auto record = [&](const std::string& subject_type, const std::string& subject_id, const std::string& contact_id,
                      const std::string& owner_name, const Json& hit) {
      std::string id = subject_id + ":" + hit["entry"]["id"].get<std::string>();
      if (stored(*host_, call, "screening_hits", id)) return;  // found before: its disposition stands
      Json document{{"subject_type", subject_type}, {"subject_id", subject_id}, {"pep_id", hit["entry"]["id"]},
                    {"pep", hit["entry"]}, {"match", hit["match"]}, {"list_import_id", list},
                    {"found_at", rfc3339(host_->now_micros(call))}, {"disposition", "pending"}};
      if (!contact_id.empty()) document["contact_id"] = contact_id;
      if (!owner_name.empty()) document["owner_name"] = owner_name;
      host_->store_put(call, "screening_hits", id, document, 0);
      ++hits;
    };
    Json request{{"type", "contact"}, {"query", {{"limit", 100}}}};
    for (;;) {
      Json page = host_->call(call, "records.search", request);
      for (const auto& c : page["data"]) {
        ++contacts;
        std::string cpf = verticals::digits_of(text(c.value("attributes", Json::object()), "finance.cpf"));
        if (cpf.empty()) ++name_only;
        for (const auto& hit : index.matches(text(c, "name"), cpf, today))
          record("contact", c["id"], c["id"], "", hit);
      }
      if (page["next"].is_null()) break;
      request["after"] = page["next"];
    }
    each_document(*host_, call, "kyc", Json::object(), [&](const Json& k) {
      const Json& owners_list = k["document"].value("beneficial_owners", Json::array());
      for (std::size_t i = 0; i < owners_list.size(); ++i) {
        const Json& o = owners_list[i];
        ++owners;
        std::string cpf = verticals::digits_of(text(o, "cpf"));
        if (cpf.empty()) ++name_only;
        for (const auto& hit : index.matches(text(o, "name"), cpf, today))
          record("beneficial_owner", text(k["document"], "party_id") + ".owner" + std::to_string(i),
                 text(k["document"], "contact_id"), text(o, "name"), hit);
      }
    });
    host_->store_put(call, "screening_runs", list,
                     {{"list_import_id", list}, {"list_entries", index.size()}, {"contacts", contacts},
                      {"beneficial_owners", owners}, {"screened_by_name_only", name_only}, {"new_hits", hits},
                      {"started_at", rfc3339(started)}, {"finished_at", rfc3339(host_->now_micros(call))}});
  }

  Response dispose(const Request& r) {
    require_role(r, {"admin", "manager"}, "decide a screening hit");
    std::string id = r.param("id");
    auto hit = stored(*host_, r.call, "screening_hits", id);
    if (!hit) throw Error(NUCLEO_NOT_FOUND, "no screening hit " + id);
    Json document = (*hit)["document"];
    Caller who = r.caller();
    document["disposition"] = r.body.at("disposition");
    document["reviewed_by"] = who.user_id.empty() ? who.actor_id : who.user_id;
    document["reviewed_at"] = rfc3339(host_->now_micros(r.call));
    if (r.body.contains("note")) document["review_note"] = r.body["note"];
    Json saved = host_->store_put(r.call, "screening_hits", id, document, (*hit)["version"].get<std::int64_t>())["document"];
    saved["id"] = id;
    return Response{200, saved};
  }

  // The demo tenant's parties get KYC records — most approved by a second person, some
  // pending, one rejected — and some contacts their CPF, for screening.
  void seed_demo(const nucleo_call* call) {
    static const std::vector<std::string> cpfs{"52998224725", "11144477735", "39053344705", "86288366757", "71428793860"};
    std::string today = today_of(*host_, call);
    Json request{{"type", "account"}, {"query", {{"limit", 100}}}};
    Json accounts = host_->call(call, "records.search", request)["data"];
    for (std::size_t i = 0; i < accounts.size(); ++i) {
      std::string id = accounts[i]["id"];
      std::string status = i % 7 == 3 ? "rejected" : i % 4 == 1 ? "pending" : "approved";
      Json document{{"party_id", id}, {"party_type", "account"}, {"status", status},
                    {"risk_rating", i % 5 == 0 ? "high" : i % 2 ? "medium" : "low"},
                    {"review_due", std::to_string(2026 + static_cast<int>(i % 3)) + today.substr(4)},
                    {"beneficial_owners", {{{"name", "Sócio " + std::to_string(i + 1)}, {"share_percent", 50}},
                                           {{"name", "Sócia " + std::to_string(i + 1)}, {"share_percent", 50}}}},
                    {"documents_checked", {{{"kind", "contrato social"}, {"checked_on", today}},
                                           {{"kind", "comprovante de endereço"}, {"checked_on", today}}}},
                    {"prepared_by", "demo-analyst"}, {"prepared_at", rfc3339(host_->now_micros(call))}};
      if (status != "pending") {
        document["decided_by"] = "demo-compliance";
        document["decided_at"] = rfc3339(host_->now_micros(call));
      }
      host_->store_put(call, "kyc", kyc_id(id), document);
    }
    Json contacts = host_->call(call, "records.search", {{"type", "contact"}, {"query", {{"limit", 5}}}})["data"];
    for (std::size_t i = 0; i < contacts.size() && i < cpfs.size(); ++i)
      host_->call(call, "records.update", {{"type", "contact"}, {"id", contacts[i]["id"]},
                                          {"data", {{"attributes", {{"finance.cpf", cpfs[i]}}}}}});
  }

  Host* host_ = nullptr;
};

}  // namespace
}  // namespace nucleo::finance

NUCLEO_PLUGIN(nucleo::finance::Finance, "org.nucleo.finance", "1.0.0")
