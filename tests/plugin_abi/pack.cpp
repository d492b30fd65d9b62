// A vertical pack in miniature (issue #20), written against the SDK alone, using every
// extension point of plugin ABI 1.2 the way a healthcare, finance or agro pack would:
//
//   GET  /whoami        who calls (Host::caller and the request's own "caller")
//   GET  /clock         the kernel's clock (Host::now_micros)
//   GET  /report.csv    a raw answer: CSV, not JSON (Response::raw)
//   POST /farms/import  a raw body: CSV, declared in plugin.json "raw_body"
//   PUT  /farms/{id}    create-only, or replace the version in If-Match (store_put's expected version)
//   GET  /trail/{id}    what its deal.created handler recorded about who acted (it also
//                       creates a follow-up task once per event, whatever the redeliveries)
//   POST /follow-ups    creates a task once per "key" (call_service "idempotency_key")
//   GET  /region        its settings for the caller's tenant (tenant_settings; the secret
//                       token is used, never answered)
//   GET  /kyc-status/{contact_id}  a contact's KYC decision, still answered after her erasure
//   POST /visits        a field visit to an account: in the account's timeline (plugin.json
//                       collection "visits" declares "timeline")
//   briefing "agro"     the account's visits and the tenant's region, in its briefing
//   briefing "car"      the farm's CAR registration, asked of the registry over http (fails
//                       without a registry_url: the briefing shows the error, not a 500)
//   job "digest"        07:00 on each tenant's own clock (register_job "time_zone": "tenant")
//   import "car_registry"  (ABI 1.6) a CAR registry export (CAR;CPF_CNPJ;PRODUTOR;MUNICIPIO;AREA_HA):
//                       each line a producer's account (its own mapping, keyed by tax id,
//                       the CAR in attributes pack.car) and her farm in the store ("farms")
//   validator on deal   maker-checker: a deal of 1,000,000 or more is a manager's to write
//   personal data       kyc_reviews (redacted on erasure) and opt_ins (deleted) name a
//                       contact; attributes pack.producer_cpf and pack.producer_phone are hers
//
// Its own unit tests (tests/unit/sdk/pack_test.cpp) drive it with the fake host alone;
// tests/e2e/pack_test.cpp loads it into a server on both backends.
#include <sstream>

#include "nucleo/sdk/plugin.hpp"

namespace {

using nucleo::sdk::Auth;
using nucleo::sdk::Caller;
using nucleo::sdk::Error;
using nucleo::sdk::Json;
using nucleo::sdk::Reason;
using nucleo::sdk::Request;
using nucleo::sdk::Response;

constexpr long manager_threshold = 1000000;

Json caller_json(const Caller& c) {
  return {{"tenant_id", c.tenant_id}, {"actor_type", c.actor_type}, {"actor_id", c.actor_id},
          {"user_id", c.user_id},     {"role", c.role},             {"teams", c.teams},
          {"scopes", c.scopes ? Json(*c.scopes) : Json()}};
}

// "name;hectares" lines after a header, hectares with a decimal comma (120,5).
Json parse_farms(const std::string& csv) {
  Json farms = Json::array();
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto split = line.find(';');
    if (split == std::string::npos) throw Error(NUCLEO_INVALID_ARGUMENT, "line '" + line + "' has no ';'");
    std::string hectares = line.substr(split + 1);
    for (char& c : hectares)
      if (c == ',') c = '.';
    farms.push_back({{"name", line.substr(0, split)}, {"hectares", std::stod(hectares)}});
  }
  return farms;
}

// One line of a CAR registry export: the producer's account and her farm, or why the
// line cannot be read. A file whose header is not the registry's is refused whole.
Json car_registry_row(std::string_view line, std::size_t number) {
  if (number == 1) {
    if (line != "CAR;CPF_CNPJ;PRODUTOR;MUNICIPIO;AREA_HA")
      throw Error(NUCLEO_INVALID_ARGUMENT, "not a CAR registry export: the header must be CAR;CPF_CNPJ;PRODUTOR;MUNICIPIO;AREA_HA");
    return nullptr;
  }
  if (line.empty()) return nullptr;
  std::vector<std::string> cells;
  std::stringstream in{std::string(line)};
  for (std::string cell; std::getline(in, cell, ';');) cells.push_back(cell);
  if (cells.size() != 5) return {{"error", "expected 5 fields separated by ';', found " + std::to_string(cells.size())}};
  return Json::array({{{"fields", {{"producer", cells[2]}, {"tax_id", cells[1]}, {"car", cells[0]}}}},
                      {{"record", {{"collection", "farms"},
                                   {"id", cells[0]},
                                   {"document", {{"car", cells[0]}, {"municipality", cells[3]}, {"hectares", cells[4]}}}}}}});
}

class Pack : public nucleo::sdk::Plugin {
 public:
  void init(nucleo::sdk::Host& host, const Json&) override {
    // A producer's CPF and WhatsApp number are hers: "personal" has the kernel seal them
    // in the audit trail and erase them with her (plugin.json's kyc_reviews and opt_ins
    // say the same of its own documents).
    host.declare_attributes("contact", {{"pack.producer_cpf", {{"type", "string"}, {"personal", true}}}});
    host.declare_attributes("account", {{"pack.car", {{"type", "string"}}}});
    host.line_importer({{"name", "car_registry"},
                        {"title", "CAR registry export"},
                        {"media_types", {"text/csv", "text/plain"}},
                        {"mapping", {{"entity", "account"},
                                     {"key", "tax_id"},
                                     {"columns", {{"producer", "legal_name"}, {"tax_id", "tax_id"}, {"car", "attributes.pack.car"}}}}}},
                       car_registry_row);
    host.declare_attributes("interaction", {{"pack.producer_phone", {{"type", "string"}, {"personal", true}}},
                                            {"pack.crop", {{"type", "string"}}}});
    host.route("GET", "/whoami", Auth::bearer, [&host](const Request& r) {
      return Response{200, {{"caller", caller_json(host.caller(r.call))}, {"request", caller_json(r.caller())}}};
    });
    host.route("GET", "/clock", Auth::bearer,
               [&host](const Request& r) { return Response{200, {{"now_micros", host.now_micros(r.call)}}}; });
    host.route("GET", "/report.csv", Auth::bearer, [](const Request&) {
      return Response::raw(200, "text/csv; charset=utf-8", "farm;hectares\r\nSanta Rita;120,5\r\n");
    });
    host.route("POST", "/farms/import", Auth::bearer, [](const Request& r) {
      Json farms = parse_farms(r.raw_body());
      return Response{200, {{"imported", farms.size()}, {"farms", farms}}};
    });
    host.route("PUT", "/farms/{id}", Auth::bearer, [&host](const Request& r) {
      std::string match = r.header("if-match");
      std::int64_t expected = match.empty() ? 0 : std::stoll(match);
      return Response{200, host.store_put(r.call, "farms", r.param("id"), r.body, expected)};
    });
    host.route("GET", "/region", Auth::bearer, [&host](const Request& r) {
      Json mine = host.tenant_settings(r.call);
      std::string token = mine["secrets"].value("api_token", "");
      return Response{200, {{"region", mine["settings"]["region"]}, {"token_length", token.size()}}};
    });
    host.route("POST", "/follow-ups", Auth::bearer, [&host](const Request& r) {
      Json task = host.call(r.call, "records.create",
                            {{"type", "task"},
                             {"data", {{"title", r.body.at("title")}}},
                             {"idempotency_key", r.body.at("key")}});
      return Response{201, task};
    });
    host.route("GET", "/trail/{id}", Auth::bearer, [&host](const Request& r) {
      return Response{200, host.store_get(r.call, "trail", r.param("id"))["document"]};
    });

    // A KYC decision outlives the person's erasure ("redact" keeps it, nameless).
    host.route("GET", "/kyc-status/{contact_id}", Auth::bearer, [&host](const Request& r) {
      Json reviews = host.store_query(r.call, "kyc_reviews",
                                      {{"where", {{"contact_id", {{"eq", r.param("contact_id")}}}}}, {"limit", 1}});
      if (reviews["data"].empty()) throw Error(NUCLEO_NOT_FOUND, "no KYC review of " + r.param("contact_id"));
      const Json& review = reviews["data"][0]["document"];
      return Response{200, {{"decision", review["decision"]}, {"reviewed_as", review.value("full_name", Json())}}};
    });

    host.route("POST", "/visits", Auth::bearer, [&host](const Request& r) {
      std::string account = r.body.at("account_id");
      std::string id = "visit-" + std::to_string(host.now_micros(r.call)) + "-" + account;
      Json visit{{"account_id", account}, {"at", host.now_micros(r.call)}, {"notes", r.body.value("notes", "")}};
      return Response{201, host.store_put(r.call, "visits", id, visit, 0)};
    });
    host.briefing_section("agro", "Field visits", [&host](const nucleo_call* call, const Json& account) {
      Json visits = host.store_query(call, "visits", {{"where", {{"account_id", {{"eq", account["id"]}}}}}});
      return Json{{"visits", visits["data"].size()},
                  {"region", host.tenant_settings(call)["settings"]["region"]}};
    });

    host.briefing_section("car", "CAR registry", [&host](const nucleo_call* call, const Json& account) {
      Json settings = host.tenant_settings(call)["settings"];
      if (!settings.contains("registry_url")) throw Error(NUCLEO_UNAVAILABLE, "no CAR registry configured");
      Json answer = host.http(call, {{"method", "GET"},
                                     {"url", settings["registry_url"].get<std::string>() + "?account=" +
                                                 account["id"].get<std::string>()},
                                     {"timeout_ms", 2000}});
      return Json::parse(nucleo::sdk::detail::from_base64(answer["body_base64"].get<std::string>()));
    });

    // A morning digest at 07:00 wherever each tenant is: it counts the tenant's visits.
    host.job(
        "digest", "cron 0 7 * * *", nucleo::sdk::Scope::tenant,
        [&host](const nucleo::sdk::Job& j) {
          Json visits = host.store_query(j.call, "visits", {{"count", true}, {"limit", 1}});
          host.gauge("visits", visits["count"].get<double>());
        },
        "tenant");

    // Maker-checker: the validator sees who writes, not only what.
    host.validate("deal", [&host](const nucleo_call* call, const Json& change) {
      std::vector<Reason> reasons;
      const Json& amount = change["after"]["amount"];
      Caller who = host.caller(call);
      bool large = amount.is_number() && amount.get<double>() >= manager_threshold;
      if (large && !who.unrestricted() && !who.is("manager") && !who.is("admin"))
        reasons.push_back({"amount", "a deal of 1,000,000 or more is written by a manager (you are " + who.role + ")"});
      return reasons;
    });

    // An event handler acts as the plugin; the envelope says who caused the event.
    host.subscribe("deal.created", [&host](const nucleo::sdk::Event& e) {
      // "Create a task, then remember the event": the key makes the task once per event,
      // even when a crash between the two redelivers the event.
      std::string deal = e.json["entity"]["id"];
      Json task = host.call(e.call, "records.create",
                            {{"type", "task"},
                             {"data", {{"title", "Visit the farm"}, {"deal_id", deal}}},
                             {"idempotency_key", "follow-up:" + e.json["id"].get<std::string>()}});
      Json entry{{"handler", caller_json(host.caller(e.call))},
                 {"caused_by", e.json["actor"]},
                 {"seen_at", host.now_micros(e.call)},
                 {"task_id", task["id"]}};
      host.store_put(e.call, "trail", e.json["entity"]["id"].get<std::string>(), entry);
    });
  }
};

}  // namespace

NUCLEO_PLUGIN(Pack, "org.nucleo.fixtures.pack", "1.0.0")
