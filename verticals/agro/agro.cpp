// The agro vertical pack (docs/verticals/agro.md), against the SDK alone: producers and
// cooperatives, farms with their CAR and fields (talhões), crop plans per safra with
// their expected harvest, planting windows from the ZARC risk tables cut by the sowing
// calendars, a rep's tasks before a window opens and before a harvest, barter deals paid
// in sacas, and a producer's season-over-season view.
#include <algorithm>
#include <cmath>
#include <set>

#include "common/dates.hpp"
#include "common/pack.hpp"
#include "demo.hpp"
#include "nucleo/sdk/plugin.hpp"
#include "seasons.hpp"

namespace nucleo::agro {
namespace {

using nucleo::sdk::Auth;
using nucleo::sdk::Caller;
using nucleo::sdk::Error;
using nucleo::sdk::Host;
using nucleo::sdk::Reason;
using nucleo::sdk::Request;
using nucleo::sdk::Response;

using verticals::add_days;
using verticals::date_of_micros;
using verticals::each_document;
using verticals::every_document;
using verticals::stored;
using verticals::text;

// A query parameter that must be an ISO date, or `fallback` when absent.
std::string date_parameter(const Request& r, const char* name, const std::string& fallback) {
  std::string given = r.query(name);
  if (given.empty()) return fallback;
  auto date = verticals::iso_date(given);
  if (!date || *date != given) throw Error(NUCLEO_INVALID_ARGUMENT, std::string(name) + " must be a date, YYYY-MM-DD");
  return given;
}

Json with_id(const Json& stored_record) {
  Json out = stored_record["document"];
  out["id"] = stored_record["id"];
  return out;
}

using verticals::utf8_line;

class Agro : public nucleo::sdk::Plugin {
 public:
  void init(Host& host, const Json&) override {
    host_ = &host;
    declare_attributes(host);
    host.line_importer({{"name", "zarc"},
                        {"title", "ZARC agricultural climate risk table (MAPA open data: Nome_cultura, SafraIni, SafraFin, "
                                  "geocodigo, UF, municipio, Cod_Solo, Cod_Ciclo, Portaria, dec1…dec36)"},
                        {"media_types", {"text/csv", "text/plain"}},
                        {"mapping", {{"entity", "account"}, {"columns", {{"municipio", "legal_name"}}}}}},
                       [](const Host::ImportLine& line) { return zarc_line(line); });
    host.route("GET", "/calendar", Auth::bearer, [this](const Request& r) { return calendar(r); });
    host.route("GET", "/planting-windows", Auth::bearer, [this](const Request& r) { return windows_route(r); });
    host.route("POST", "/fields/{field_id}/crop-plans", Auth::bearer, [this](const Request& r) { return plan_crop(r); });
    host.route("GET", "/crop-plans/{id}", Auth::bearer, [this](const Request& r) {
      Json plan = plan_of(r.call, r.param("id"));
      return Response{200, plan};
    });
    host.route("DELETE", "/crop-plans/{id}", Auth::bearer, [this](const Request& r) {
      require_role(r, {"admin", "manager", "sales", "integration"}, "remove a crop plan");
      plan_of(r.call, r.param("id"));
      host_->store_delete(r.call, "crop_plans", r.param("id"));
      return Response{200, {{"id", r.param("id")}, {"deleted", true}}};
    });
    host.route("GET", "/producers/{account_id}/crop-plans", Auth::bearer, [this](const Request& r) {
      Json data = Json::array();
      for (const auto& p : plans_of(r.call, producer(r.call, r.param("account_id"))["id"].get<std::string>(), r.query("safra")))
        data.push_back(with_id(p));
      return Response{200, {{"data", data}}};
    });
    host.route("GET", "/producers/{account_id}/seasons", Auth::bearer, [this](const Request& r) { return seasons(r); });
    host.route("POST", "/season-alerts/run", Auth::bearer, [this](const Request& r) {
      require_role(r, {"admin", "manager"}, "run the season alerts");
      return Response{200, send_alerts(r.call)};
    });
    host.validate("deal", [](const nucleo_call*, const Json& change) { return barter_reasons(change); });
    host.briefing_section("producer", "Producer (agro)",
                          [this](const nucleo_call* call, const Json& account) { return briefing(call, account); });
    host.job("season-alerts", "cron 0 7 * * *", nucleo::sdk::Scope::tenant,
             [this](const nucleo::sdk::Job& j) { send_alerts(j.call); }, "tenant");
    // `nucleo demo --vertical agro` runs it once in the new demo tenant.
    host.job("demo", "", nucleo::sdk::Scope::tenant, [this](const nucleo::sdk::Job& j) {
      Json written = seed_demo(*host_, j.call, j.payload().value("seed", 20261204u),
                               [&](const std::string& field_id, const Json& plan) { return create_plan(j.call, field_id, plan); });
      written["alerts"] = send_alerts(j.call);
      host_->log(nucleo::sdk::Level::info, "demo data: " + written.dump());
    });
  }

 private:
  static void declare_attributes(Host& host) {
    host.declare_attributes(
        "account", {{"agro.producer_kind", {{"type", "string"}, {"enum", {"producer", "cooperative", "trading", "input_dealer"}},
                                            {"description", "a producer (CPF or CNPJ as tax_id), a cooperative, …"}}},
                    {"agro.state_registration", {{"type", "string"}, {"maxLength", 20},
                                                 {"description", "inscrição estadual de produtor rural"}}}});
    // A barter (troca) pays inputs in grain: so many sacas of 60 kg at a price per saca.
    host.declare_attributes(
        "deal", {{"agro.safra", {{"type", "string"}, {"pattern", "^[0-9]{4}/[0-9]{2}$"}, {"description", "the safra the deal supplies"}}},
                 {"agro.barter_commodity", {{"type", "string"}, {"enum", {"soja", "milho", "cafe", "algodao", "trigo", "sorgo"}}}},
                 {"agro.barter_sacas", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100000000},
                                        {"description", "sacas of 60 kg the buyer delivers"}}},
                 {"agro.barter_price_per_saca", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100000000},
                                                 {"description", "the agreed price of a saca, in centavos"}}}});
  }

  static void require_role(const Request& r, const std::set<std::string>& roles, const std::string& what) {
    Caller who = r.caller();
    if (!who.unrestricted() && !roles.count(who.role)) throw Error(NUCLEO_FORBIDDEN, "the " + who.role + " role may not " + what);
  }

  // The account as the caller sees it (404 otherwise).
  Json producer(const nucleo_call* call, const std::string& account_id) const {
    return host_->call(call, "records.get", {{"type", "account"}, {"id", account_id}});
  }

  Json plan_of(const nucleo_call* call, const std::string& id) const {
    auto plan = stored(*host_, call, "crop_plans", id);
    if (!plan) throw Error(NUCLEO_NOT_FOUND, "no crop plan " + id);
    producer(call, text((*plan)["document"], "account_id"));  // 404 unless the caller may see its producer
    return with_id(*plan);
  }

  std::vector<Json> plans_of(const nucleo_call* call, const std::string& account_id, const std::string& safra) const {
    Json where{{"account_id", {{"eq", account_id}}}};
    if (!safra.empty()) where["safra"] = {{"eq", safra}};
    auto plans = every_document(*host_, call, "crop_plans", {{"where", where}});
    std::sort(plans.begin(), plans.end(), [](const Json& a, const Json& b) {
      return text(a["document"], "planting_date") < text(b["document"], "planting_date");
    });
    return plans;
  }

  // ---- The ZARC import ------------------------------------------------------------------

  static Json zarc_line(const Host::ImportLine& line) {
    if (line.number == 1) {
      ZarcHeader header = zarc_header(utf8_line(line.text));
      line.kept = {{"columns", header.columns}, {"separator", std::string(1, header.separator)}};
      return nullptr;
    }
    if (line.text.empty() || line.text == "\r") return nullptr;
    std::string row = utf8_line(line.text);
    if (!row.empty() && row.back() == '\r') row.pop_back();
    auto parsed = zarc_entry(verticals::Columns(line.kept["columns"].get<std::vector<std::string>>()),
                             line.kept["separator"].get<std::string>()[0], row);
    if (auto* problem = std::get_if<std::string>(&parsed)) return {{"error", *problem}};
    ZarcEntry entry = std::get<ZarcEntry>(parsed);
    entry.document["seen_in"] = line.import_id;
    return {{"record", {{"collection", "zarc"}, {"id", entry.id}, {"document", entry.document}}}};
  }

  // ---- The calendar and planting windows --------------------------------------------------

  Response calendar(const Request& r) const {
    std::string on = date_parameter(r, "on", date_of_micros(host_->now_micros(r.call)));
    int year = std::stoi(on.substr(0, 4)), d = decendio_of(on);
    Span safra = safra_span(safra_of(on)), days = decendio_span(year, d);
    return Response{200, {{"date", on}, {"safra", safra_of(on)}, {"safra_start", safra.start}, {"safra_end", safra.end},
                          {"decendio", d}, {"decendio_start", days.start}, {"decendio_end", days.end}}};
  }

  struct WindowQuery {
    std::string crop, season = "first", municipality, soil, cycle;
    Span span;         // the days ZARC tables must cover: the safra's, or one planting date
    std::string safra;  // the safra label the sowing calendar is looked up by
  };

  struct Windows {
    std::vector<Window> windows;
    std::vector<Json> rows;
    Json calendar;  // the sowing calendar applied, or null
    int max_risk = 40;
  };

  // The ZARC rows for the crop, season and municipality whose table covers the query's
  // days (its soil and cycle when given), their windows, cut by the state's sowing
  // calendar for the safra when the tenant keeps one.
  Windows windows_for(const nucleo_call* call, const WindowQuery& q) const {
    Windows out;
    out.max_risk = host_->tenant_settings(call)["settings"].value("max_zarc_risk", 40);
    each_document(*host_, call, "zarc",
                  {{"where", {{"crop", {{"eq", q.crop}}}, {"geocode", {{"eq", q.municipality}}},
                              {"span_start", {{"lte", q.span.end}}}, {"span_end", {{"gte", q.span.start}}}}}},
                  [&](Json d) {
                    const Json& z = d["document"];
                    if (text(z, "season") != q.season) return;
                    if (!q.soil.empty() && text(z, "soil") != q.soil) return;
                    if (!q.cycle.empty() && text(z, "cycle") != q.cycle) return;
                    out.rows.push_back(z);
                  });
    // One table per safra: a query spanning two (a planting date is in one) keeps the first.
    if (!out.rows.empty()) {
      std::string first = text(out.rows.front(), "safra");
      out.rows.erase(std::remove_if(out.rows.begin(), out.rows.end(), [&](const Json& z) { return text(z, "safra") != first; }),
                     out.rows.end());
    }
    out.windows = planting_windows(out.rows, out.max_risk);
    std::string uf = uf_of_municipality(q.municipality);
    each_document(*host_, call, "sowing_calendars",
                  {{"where", {{"crop", {{"eq", q.crop}}}, {"uf", {{"eq", uf}}}, {"safra", {{"eq", q.safra}}}}}}, [&](Json d) {
                    const Json& c = d["document"];
                    if (c.value("season", "first") == q.season && out.calendar.is_null()) out.calendar = with_id(d);
                  });
    if (!out.calendar.is_null()) {
      Span days{text(out.calendar, "start"), text(out.calendar, "end")};
      out.windows = out.rows.empty() ? std::vector<Window>{{days.start, days.end, 0, 0}} : within(out.windows, days);
    }
    return out;
  }

  Response windows_route(const Request& r) const {
    WindowQuery q;
    CropKey crop = crop_key(r.query("crop"));
    q.crop = crop.key;
    q.season = r.query("season").empty() ? crop.season : r.query("season");
    q.municipality = r.query("municipality");
    q.soil = r.query("soil");
    q.cycle = r.query("cycle");
    if (q.crop.empty()) throw Error(NUCLEO_INVALID_ARGUMENT, "crop is required, as in crop=soja");
    if (q.season != "first" && q.season != "second") throw Error(NUCLEO_INVALID_ARGUMENT, "season must be first or second");
    if (uf_of_municipality(q.municipality).empty())
      throw Error(NUCLEO_INVALID_ARGUMENT, "municipality must be an IBGE municipality code (7 digits), as in 5107925");
    q.safra = r.query("safra").empty() ? safra_of(date_of_micros(host_->now_micros(r.call))) : r.query("safra");
    try {
      q.span = safra_span(q.safra);
    } catch (const std::invalid_argument& e) {
      throw Error(NUCLEO_INVALID_ARGUMENT, e.what());
    }
    Windows found = windows_for(r.call, q);
    std::set<std::string> portarias;
    for (const auto& z : found.rows)
      if (!text(z, "portaria").empty()) portarias.insert(text(z, "portaria"));
    Json answer{{"crop", q.crop}, {"season", q.season}, {"municipality", q.municipality},
                {"uf", uf_of_municipality(q.municipality)}, {"safra", q.safra}, {"max_risk", found.max_risk},
                {"zarc_rows", found.rows.size()}, {"portarias", portarias}, {"windows", to_json(found.windows)}};
    if (!found.calendar.is_null()) answer["calendar"] = found.calendar;  // absent when the tenant keeps none
    return Response{200, answer};
  }

  // ---- Crop plans -------------------------------------------------------------------------

  // A crop on a field for a safra. Its safra and expected harvest follow from the planting
  // date and cycle; a second crop must follow the first crop's harvest on the field; the
  // ZARC verdict on the planting date (recommended, at which risk, or outside every
  // window) is kept with the plan — credit and insurance (Proagro) ask for it.
  Response plan_crop(const Request& r) {
    require_role(r, {"admin", "manager", "sales", "integration"}, "plan crops");
    return Response{201, create_plan(r.call, r.param("field_id"), r.body)};
  }

  Json create_plan(const nucleo_call* call, const std::string& field_id, const Json& body) {
    auto field = stored(*host_, call, "fields", field_id);
    if (!field) throw Error(NUCLEO_NOT_FOUND, "no field " + field_id);
    const Json& f = (*field)["document"];
    Json account = producer(call, text(f, "account_id"));
    auto farm = stored(*host_, call, "farms", text(f, "farm_id"));
    if (!farm) throw Error(NUCLEO_NOT_FOUND, "the field's farm " + text(f, "farm_id") + " is gone");
    const Json& fm = (*farm)["document"];
    std::string municipality = text(fm, "municipality_ibge");
    if (!text(fm, "car").empty())
      if (std::string problem = car_problem(text(fm, "car"), municipality); !problem.empty())
        throw Error(NUCLEO_INVALID_ARGUMENT, "farm " + (*farm)["id"].get<std::string>() + ": " + problem);

    CropKey crop = crop_key(body.at("crop").get<std::string>());
    std::string season = body.value("season", crop.season);
    std::string planting = body.at("planting_date").get<std::string>();
    int cycle_days = body.at("cycle_days").get<int>();
    double area = body.value("area_ha", f.value("area_ha", 0.0));
    if (std::lround(area * 100) > std::lround(f.value("area_ha", 0.0) * 100))
      throw Error(NUCLEO_INVALID_ARGUMENT, "area_ha " + Json(area).dump() + " is more than the field's " + f.value("area_ha", Json()).dump());
    Json plan{{"account_id", account["id"]}, {"farm_id", (*farm)["id"]}, {"field_id", (*field)["id"]}, {"crop", crop.key},
              {"season", season}, {"safra", safra_of(planting)}, {"planting_date", planting}, {"cycle_days", cycle_days},
              {"expected_harvest", expected_harvest(planting, cycle_days)}, {"area_ha", area},
              {"municipality_ibge", municipality}, {"status", body.value("status", "planned")}};
    if (body.contains("cycle")) plan["cycle"] = body["cycle"];
    if (body.contains("notes")) plan["notes"] = body["notes"];
    // One crop of a kind per field, season and safra: planning it again is a conflict.
    std::string id = text(plan, "field_id") + "." + text(plan, "safra").replace(4, 1, "-") + "." + season + "." + crop.key;
    if (stored(*host_, call, "crop_plans", id))
      throw Error(NUCLEO_CONFLICT, "field " + text(plan, "field_id") + " already has a " + season + " crop of " + crop.key +
                                       " in safra " + text(plan, "safra") + " (" + id + ")");
    check_field_is_free(call, plan);
    plan["zarc"] = zarc_verdict(call, plan, text(f, "soil"));
    try {
      return with_id(host_->store_put(call, "crop_plans", id, plan, 0));
    } catch (const Error& e) {
      if (e.status() != NUCLEO_CONFLICT) throw;
      throw Error(NUCLEO_CONFLICT, "field " + text(plan, "field_id") + " already has a " + season + " crop of " + crop.key +
                                       " in safra " + text(plan, "safra") + " (" + id + ")");
    }
  }

  // A field holds one crop at a time: a plan whose days overlap another plan's on the same
  // field is refused, and a second crop needs the safra's first crop harvested before it.
  void check_field_is_free(const nucleo_call* call, const Json& plan) const {
    std::string from = text(plan, "planting_date"), to = text(plan, "expected_harvest");
    bool first_crop_found = false;
    each_document(*host_, call, "crop_plans", {{"where", {{"field_id", {{"eq", plan["field_id"]}}}}}}, [&](Json d) {
      const Json& other = d["document"];
      if (text(other, "status") == "lost") return;
      if (text(other, "safra") == text(plan, "safra") && text(other, "season") == "first") {
        first_crop_found = true;
        if (text(plan, "season") == "second" && from < text(other, "expected_harvest"))
          throw Error(NUCLEO_INVALID_ARGUMENT, "a second crop planted on " + from + " comes before the first crop (" +
                                                   text(other, "crop") + ") is harvested on " + text(other, "expected_harvest"));
      }
      if (from < text(other, "expected_harvest") && text(other, "planting_date") < to)
        throw Error(NUCLEO_INVALID_ARGUMENT, "the field holds " + text(other, "crop") + " from " + text(other, "planting_date") +
                                                 " to " + text(other, "expected_harvest") + ": the plans overlap");
    });
    if (text(plan, "season") == "second" && !first_crop_found)
      throw Error(NUCLEO_INVALID_ARGUMENT, "a second crop (safrinha) follows a first crop: plan the field's first crop of safra " +
                                               text(plan, "safra") + " before it");
  }

  Json zarc_verdict(const nucleo_call* call, const Json& plan, const std::string& soil) const {
    std::string planting = text(plan, "planting_date");
    WindowQuery q{text(plan, "crop"), text(plan, "season"), text(plan, "municipality_ibge"), soil, text(plan, "cycle"),
                  {planting, planting}, text(plan, "safra")};
    Windows found = windows_for(call, q);
    Json verdict{{"status", "no_table"}};
    if (found.rows.empty() && found.calendar.is_null()) return verdict;
    verdict["status"] = "outside";
    for (const auto& w : found.windows)
      if (w.start <= planting && planting <= w.end) {
        verdict = {{"status", "recommended"}, {"window_start", w.start}, {"window_end", w.end}};
        int risk = 0;
        for (const auto& z : found.rows) {
          int r = z["risks"].at(static_cast<std::size_t>(decendio_of(planting) - 1)).get<int>();
          if (r > 0 && (risk == 0 || r < risk)) risk = r;
        }
        if (risk > 0) verdict["risk"] = risk;
      }
    if (verdict["status"] == "outside") {
      for (const auto& w : found.windows)
        if (w.start > planting) {
          verdict["next_window_start"] = w.start;
          break;
        }
    }
    if (!found.rows.empty()) verdict["portaria"] = text(found.rows.front(), "portaria");
    if (!found.calendar.is_null()) verdict["calendar_act"] = text(found.calendar, "act");
    return verdict;
  }

  // ---- Season over season -------------------------------------------------------------------

  Response seasons(const Request& r) const {
    Json account = producer(r.call, r.param("account_id"));
    std::vector<Json> plans;
    for (const auto& p : plans_of(r.call, account["id"].get<std::string>(), "")) plans.push_back(p["document"]);
    std::vector<Json> won;
    for (const auto& d : verticals::records_where(*host_, r.call, "deal",
                                                  Json::array({{{"field", "account_id"}, {"op", "eq"}, {"value", account["id"]}},
                                                               {{"field", "status"}, {"op", "eq"}, {"value", "won"}}}),
                                                  SIZE_MAX)) {
      const Json& attributes = d.value("attributes", Json::object());
      std::string safra = text(attributes, "agro.safra");
      std::string won_at = text(d, "stage_entered_at");
      if (safra.empty() && won_at.size() >= 10) safra = safra_of(won_at.substr(0, 10));
      won.push_back({{"safra", safra}, {"amount", d.value("amount", std::int64_t{0})},
                     {"barter_sacas", attributes.value("agro.barter_sacas", std::int64_t{0})}});
    }
    long farms = 0, field_area = 0;
    each_document(*host_, r.call, "farms", {{"where", {{"account_id", {{"eq", account["id"]}}}}}}, [&](Json) { ++farms; });
    each_document(*host_, r.call, "fields", {{"where", {{"account_id", {{"eq", account["id"]}}}}}},
                  [&](Json d) { field_area += std::lround(d["document"].value("area_ha", 0.0) * 100); });
    return Response{200, {{"account_id", account["id"]}, {"farms", farms}, {"fields_area_ha", field_area / 100.0},
                          {"seasons", seasons_of(plans, won)}}};
  }

  // ---- Barter -----------------------------------------------------------------------------

  // A barter deal names its commodity, its sacas and the price of one, and its amount is
  // what those sacas are worth — so what the rep sells and what the producer delivers agree.
  static std::vector<Reason> barter_reasons(const Json& change) {
    const Json& after = change["after"];
    const Json& a = after.value("attributes", Json::object());
    bool barter = a.contains("agro.barter_commodity") || a.contains("agro.barter_sacas") || a.contains("agro.barter_price_per_saca");
    if (!barter) return {};
    std::vector<Reason> reasons;
    for (const char* key : {"agro.barter_commodity", "agro.barter_sacas", "agro.barter_price_per_saca"})
      if (!a.contains(key) || a[key].is_null())
        reasons.push_back({std::string("attributes.") + key, "a barter deal needs its commodity, sacas and price per saca"});
    if (!reasons.empty()) return reasons;
    std::int64_t worth = a["agro.barter_sacas"].get<std::int64_t>() * a["agro.barter_price_per_saca"].get<std::int64_t>();
    if (after.contains("amount") && after["amount"].is_number_integer() && after["amount"].get<std::int64_t>() != worth)
      reasons.push_back({"amount", "a barter deal's amount is its sacas times the price per saca: " + std::to_string(worth) +
                                       " centavos, not " + after["amount"].dump()});
    return reasons;
  }

  // ---- Alerts -------------------------------------------------------------------------------

  // Once a day: a task for the producer's owner when a planned crop's planting window
  // opens within planting_alert_days (inputs are sold before it), and when a crop's
  // harvest is expected within harvest_alert_days (grain is bought then); each also a
  // season_alerts record, on the account's timeline and an event automation can follow.
  // Written once per plan and kind whatever the reruns.
  Json send_alerts(const nucleo_call* call) {
    Json settings = host_->tenant_settings(call)["settings"];
    long planting_days = settings.value("planting_alert_days", 30L), harvest_days = settings.value("harvest_alert_days", 15L);
    std::string today = date_of_micros(host_->now_micros(call));
    long planting = 0, harvest = 0;
    // A window opens on or before its planting date; plans far in the future wait.
    each_document(*host_, call, "crop_plans",
                  {{"where", {{"planting_date", {{"gte", today}, {"lte", add_days(today, planting_days + 366)}}}}}}, [&](Json d) {
                    const Json& p = d["document"];
                    if (text(p, "status") != "planned" || p.contains("planting_alert_task_id")) return;
                    const Json& zarc = p.value("zarc", Json::object());
                    std::string opens = !text(zarc, "window_start").empty() ? text(zarc, "window_start") : text(p, "planting_date");
                    opens = std::max(opens, today);
                    if (verticals::days_between(today, opens) > planting_days) return;
                    alert(call, d, "planting_window_opens", opens, "Janela de plantio de " + text(p, "crop") + " abre em " +
                                                                       opens + ": oferecer insumos (safra " + text(p, "safra") + ")");
                    ++planting;
                  });
    each_document(*host_, call, "crop_plans",
                  {{"where", {{"expected_harvest", {{"gte", today}, {"lte", add_days(today, harvest_days)}}}}}}, [&](Json d) {
                    const Json& p = d["document"];
                    std::string status = text(p, "status");
                    if ((status != "planned" && status != "planted") || p.contains("harvest_alert_task_id")) return;
                    alert(call, d, "harvest_expected", text(p, "expected_harvest"),
                          "Colheita de " + text(p, "crop") + " prevista para " + text(p, "expected_harvest") +
                              ": originação de grãos (safra " + text(p, "safra") + ")");
                    ++harvest;
                  });
    return {{"planting_alerts", planting}, {"harvest_alerts", harvest}};
  }

  void alert(const nucleo_call* call, const Json& stored_plan, const std::string& kind, const std::string& on,
             const std::string& title) {
    std::string plan_id = stored_plan["id"];
    Json plan = stored_plan["document"];
    Json account = host_->call(call, "records.get", {{"type", "account"}, {"id", plan["account_id"]}});
    Json data{{"title", title}, {"account_id", plan["account_id"]}, {"kind", "reminder"},
              {"due_at", on + "T12:00:00Z"}, {"origin_rule", "org.nucleo.agro/" + kind}};
    if (account.contains("owner_id") && account["owner_id"].is_string()) data["assignee_id"] = account["owner_id"];
    Json task = host_->call(call, "records.create",
                            {{"type", "task"}, {"data", data}, {"idempotency_key", "agro:" + kind + ":" + plan_id}});
    std::string today = date_of_micros(host_->now_micros(call));
    Json record{{"account_id", plan["account_id"]}, {"plan_id", plan_id}, {"kind", kind}, {"on", on},
                {"days_before", verticals::days_between(today, on)}, {"crop", plan["crop"]}, {"field_id", plan["field_id"]},
                {"task_id", task["id"]}};
    host_->store_put(call, "season_alerts", plan_id + "." + kind, record);
    plan[kind == "harvest_expected" ? "harvest_alert_task_id" : "planting_alert_task_id"] = task["id"];
    host_->store_put(call, "crop_plans", plan_id, plan, stored_plan["version"].get<std::int64_t>());
  }

  // ---- The customer 360 ---------------------------------------------------------------------

  Json briefing(const nucleo_call* call, const Json& account) const {
    std::string today = date_of_micros(host_->now_micros(call));
    std::string safra = safra_of(today);
    auto farms = every_document(*host_, call, "farms", {{"where", {{"account_id", {{"eq", account["id"]}}}}}});
    Json plans = Json::array();
    std::string next_harvest;
    for (const auto& p : plans_of(call, account["id"].get<std::string>(), safra)) {
      const Json& d = p["document"];
      plans.push_back({{"crop", d["crop"]}, {"season", d["season"]}, {"area_ha", d["area_ha"]},
                       {"planting_date", d["planting_date"]}, {"expected_harvest", d["expected_harvest"]}});
      if (text(d, "expected_harvest") >= today && (next_harvest.empty() || text(d, "expected_harvest") < next_harvest))
        next_harvest = text(d, "expected_harvest");
    }
    Json cooperatives = Json::array();
    each_document(*host_, call, "memberships", {{"where", {{"producer_id", {{"eq", account["id"]}}}}}},
                  [&](Json m) { cooperatives.push_back(m["document"]["cooperative_id"]); });
    Json problems = Json::array();
    for (const auto& f : farms)
      if (!text(f["document"], "car").empty())
        if (std::string p = car_problem(text(f["document"], "car"), text(f["document"], "municipality_ibge")); !p.empty())
          problems.push_back(p);
    return {{"safra", safra}, {"farms", farms.size()}, {"crop_plans", plans},
            {"next_harvest", next_harvest.empty() ? Json() : Json(next_harvest)}, {"cooperatives", cooperatives},
            {"problems", problems}};
  }

  Host* host_ = nullptr;
};

}  // namespace
}  // namespace nucleo::agro

NUCLEO_PLUGIN(nucleo::agro::Agro, "org.nucleo.agro", "1.0.0")
