#include "kernel/app/demo_data.hpp"

#include <algorithm>
#include <random>

#include "kernel/app/embedded_pipelines.hpp"
#include "kernel/automation/checklists.hpp"
#include "kernel/automation/pipeline_definition.hpp"
#include "kernel/automation/stage_gate.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/services/api_key_service.hpp"
#include "kernel/services/principal.hpp"
#include "kernel/services/sales_process_service.hpp"
#include "kernel/services/tenant_service.hpp"

namespace nucleo::app {
namespace {

using services::CallContext;
using services::RecordService;

constexpr std::int64_t hour = 3'600'000'000, day = 24 * hour;

const std::vector<std::string> first_names{"Ana",    "Bruno",  "Camila", "Diego",   "Eduarda", "Felipe", "Gabriela",
                                           "Heitor", "Isabel", "João",   "Larissa", "Marcos",  "Natália", "Otávio",
                                           "Paula",  "Rafael", "Sofia",  "Tiago",   "Vitória", "Wagner"};
const std::vector<std::string> last_names{"Almeida", "Barbosa", "Cardoso", "Dias",    "Esteves", "Ferreira", "Gomes",
                                          "Henrique", "Lima",   "Machado", "Nogueira", "Oliveira", "Pereira", "Queiroz",
                                          "Ribeiro", "Santos",  "Teixeira", "Vieira"};
struct City {
  const char* name;
  const char* state;
  const char* area_code;
};
const std::vector<City> cities{{"São Paulo", "SP", "11"},   {"Campinas", "SP", "19"},     {"Rio de Janeiro", "RJ", "21"},
                               {"Belo Horizonte", "MG", "31"}, {"Curitiba", "PR", "41"},   {"Porto Alegre", "RS", "51"},
                               {"Brasília", "DF", "61"},     {"Salvador", "BA", "71"},     {"Recife", "PE", "81"},
                               {"Manaus", "AM", "92"},       {"Cuiabá", "MT", "65"},       {"Goiânia", "GO", "62"}};
const std::vector<std::string> institutions{"Hospital São Lucas",     "Santa Casa de Misericórdia", "Hospital Santa Clara",
                                            "Hospital Universitário", "Clínica Vida Plena",          "Hospital do Coração",
                                            "Hospital Regional",      "Instituto de Ortopedia",      "Hospital Materno-Infantil",
                                            "Policlínica Central",    "Hospital Bom Jesus",          "Centro Oncológico"};
const std::vector<std::string> products{"Luvas cirúrgicas",  "Seringas e agulhas", "Cateteres venosos",
                                        "Kits de curativo",  "Fios de sutura",     "Equipos de infusão",
                                        "Máscaras N95",      "Aventais descartáveis"};
const std::vector<std::string> lost_reasons{"Preço acima do orçamento", "Concorrente com registro ANVISA mais antigo",
                                            "Projeto adiado para o próximo exercício", "Inabilitado na licitação"};

// Valid CNPJ check digits (Receita Federal): weights 5..2,9..2 then 6..2,9..2, mod 11.
std::string cnpj(std::uint32_t base) {
  std::string digits = std::to_string(10'000'000 + base % 90'000'000) + "0001";
  for (int round = 0; round < 2; ++round) {
    int sum = 0, weight = static_cast<int>(digits.size()) - 7;
    for (char c : digits) {
      sum += (c - '0') * weight;
      weight = weight == 2 ? 9 : weight - 1;
    }
    int rest = sum % 11;
    digits.push_back(static_cast<char>('0' + (rest < 2 ? 0 : 11 - rest)));
  }
  return digits.substr(0, 2) + "." + digits.substr(2, 3) + "." + digits.substr(5, 3) + "/" + digits.substr(8, 4) + "-" +
         digits.substr(12, 2);
}

std::string ascii_slug(const std::string& text) {
  std::string out;
  for (unsigned char c : text)
    if (std::isalnum(c)) out.push_back(static_cast<char>(std::tolower(c)));
  return out;
}

std::string date_of(Timestamp t) { return format_rfc3339(t).substr(0, 10); }

class DemoBuilder {
 public:
  DemoBuilder(services::ServiceDependencies deps, const DemoOptions& options, Timestamp now)
      : deps_(deps), options_(options), records_(deps), random_(options.seed), now_(now), sim_(Timestamp{now.micros - 180 * day}) {}

  std::uint32_t pick(std::uint32_t n) { return static_cast<std::uint32_t>(random_() % n); }
  template <class T>
  const T& one_of(const std::vector<T>& items) { return items[pick(static_cast<std::uint32_t>(items.size()))]; }

  CallContext system() {
    CallContext ctx;
    ctx.tenant_id = tenant_;
    ctx.actor = {"system", "demo", ""};
    ctx.request_id = "req_demo";
    ctx.clock = &sim_;
    return ctx;
  }
  CallContext as(const std::string& user_id, const std::string& role) {
    CallContext ctx = system();
    auto p = std::make_shared<services::Principal>();
    p->role = role;
    p->user_id = user_id;
    ctx.principal = p;
    ctx.actor = {"user", user_id, ""};
    return ctx;
  }

  DemoResult build(const DemoOptions& options, const std::function<void(const std::string&)>& progress) {
    CallContext outside = system();
    outside.clock = &real_;
    tenant_ = services::TenantService(deps_).create(outside, options.tenant_name, "America/Sao_Paulo")["id"];
    progress("tenant " + tenant_ + " created");
    create_team();
    DemoResult result{tenant_, admin_, "", {}};
    result.admin_key_secret =
        services::ApiKeyService(deps_).create(system(), {{"name", "demo admin"}, {"role", "admin"}, {"user_id", admin_}}).secret;
    apply_template(options.template_name);
    progress("pipeline template " + options.template_name + " applied");
    for (std::size_t i = 0; i < options.accounts; ++i) create_account(i);
    progress(std::to_string(options.accounts) + " accounts and their contacts created");
    for (const auto& account : accounts_) {
      simulate_deal(account);
      if (pick(3) == 0) simulate_deal(account);
    }
    progress(std::to_string(counts_["deals"]) + " deals taken through their stages");
    create_agenda();
    CallContext today = system();
    today.clock = &real_;
    counts_["stalled deals"] = services::SalesProcessService(deps_).update_stalled_deals(today, {}).stalled;
    result.counts = counts_;
    return result;
  }

 private:
  struct Account {
    std::string id, owner, name;
    std::vector<std::string> contacts;
  };
  struct Pipeline {
    std::vector<Json> open;  // by position
    Json won, lost;
  };

  void create_team() {
    std::string team = records_.create(system(), "team", {{"name", "Vendas Hospitalares"}}).record["id"];
    auto user = [&](const std::string& name, const std::string& email, const std::string& role, const std::string& zone) {
      return records_
          .create(system(), "user", {{"name", name}, {"email", email}, {"role", role}, {"time_zone", zone},
                                     {"team_ids", {team}}})
          .record["id"]
          .get<std::string>();
    };
    admin_ = user("Ana Souza", "ana.souza@demo.nucleo.example", "admin", "America/Sao_Paulo");
    manager_ = user("Carlos Lima", "carlos.lima@demo.nucleo.example", "manager", "America/Sao_Paulo");
    reps_ = {user("Rosa Amaral", "rosa.amaral@demo.nucleo.example", "sales", "America/Manaus"),
             user("Pedro Nunes", "pedro.nunes@demo.nucleo.example", "sales", "America/Sao_Paulo"),
             user("Júlia Prado", "julia.prado@demo.nucleo.example", "sales", "America/Cuiaba")};
    counts_["users"] = 5;
  }

  void apply_template(const std::string& name) {
    for (const auto& file : embedded_pipeline_templates()) {
      if (file.name != name + ".json") continue;
      Json applied = automation::apply_pipeline_document(deps_, system(), Json::parse(file.content), false);
      for (const auto& p : applied["pipelines"]) pipelines_.push_back(outline(p["id"]));
      return;
    }
    throw Error(ErrorCode::validation, "no pipeline template '" + name + "'", {{"template", "unknown"}});
  }

  Pipeline outline(const std::string& pipeline_id) {
    store::RecordQuery q;
    q.equals = {{"pipeline_id", pipeline_id}};
    q.limit = 100;
    auto stages = records_.list(system(), "stage", q);
    std::sort(stages.begin(), stages.end(), [](const Json& a, const Json& b) { return a["position"] < b["position"]; });
    Pipeline p;
    for (const auto& s : stages) {
      if (s["kind"] == "open") p.open.push_back(s);
      else if (s["kind"] == "won" && p.won.is_null()) p.won = s;
      else if (s["kind"] == "lost" && p.lost.is_null()) p.lost = s;
    }
    return p;
  }

  std::string phone(const City& city) {
    return "+55 " + std::string(city.area_code) + " 9" + std::to_string(8 + pick(2)) + std::to_string(100 + pick(900)) +
           "-" + std::to_string(1000 + pick(9000));
  }

  void create_account(std::size_t i) {
    const City& city = cities[i % cities.size()];
    const std::vector<std::string>& names = options_.account_names.empty() ? institutions : options_.account_names;
    std::string name = names[(i / cities.size() + i) % names.size()] + " de " + city.name;
    std::string domain = ascii_slug(names[(i / cities.size() + i) % names.size()]).substr(0, 20) + std::to_string(i) + ".example";
    Account a{"", reps_[i % reps_.size()], name, {}};
    sim_.set(Timestamp{now_.micros - (175 - static_cast<std::int64_t>(pick(10))) * day});
    a.id = records_
               .create(as(a.owner, "sales"), "account",
                       {{"legal_name", name + " Ltda"}, {"trade_name", name}, {"tax_id", cnpj(random_())},
                        {"domain", domain}, {"phones", {phone(city)}}, {"emails", {"compras@" + domain}},
                        {"address", {{"city", city.name}, {"state", city.state}, {"country", "BR"}}},
                        {"owner_id", a.owner}, {"lifecycle", pick(2) ? "customer" : "prospect"}})
               .record["id"];
    static const std::vector<std::string> hospital_titles{"Compradora", "Farmacêutico responsável", "Diretor clínico"};
    for (const std::string& title : options_.contact_titles.empty() ? hospital_titles : options_.contact_titles) {
      std::string first = one_of(first_names), last = one_of(last_names);
      std::string email = ascii_slug(first) + "." + ascii_slug(last) + "@" + domain;
      a.contacts.push_back(records_
                               .create(as(a.owner, "sales"), "contact",
                                       {{"name", first + " " + last}, {"account_id", a.id}, {"email", email},
                                        {"phone", phone(city)}, {"job_title", title}, {"owner_id", a.owner}})
                               .record["id"]);
      ++counts_["contacts"];
    }
    accounts_.push_back(a);
    ++counts_["accounts"];
  }

  void log(const Account& a, const std::string& deal_id, const std::string& type, const std::string& contact,
           const std::string& subject) {
    std::string direction = type == "note" || type == "system" ? "internal"
                            : type == "complaint" || type == "feedback" || type == "support" ? "inbound"
                                                                                               : "outbound";
    Json input = {{"type", type}, {"direction", direction}, {"subject", subject}, {"account_id", a.id},
                  {"contact_id", contact.empty() ? Json() : Json(contact)},
                  {"deal_id", deal_id.empty() ? Json() : Json(deal_id)}};
    records_.create(as(a.owner, "sales"), "interaction", input);
    ++counts_["interactions"];
  }

  // Moves the simulated clock on, never past an hour ago.
  bool advance(std::int64_t days) {
    std::int64_t next = sim_.now().micros + days * day + static_cast<std::int64_t>(pick(8)) * hour;
    if (next > now_.micros - hour) return false;
    sim_.set(Timestamp{next});
    return true;
  }

  void simulate_deal(const Account& a) {
    const Pipeline& p = pipelines_[pick(static_cast<std::uint32_t>(pipelines_.size()))];
    sim_.set(Timestamp{now_.micros - (20 + static_cast<std::int64_t>(pick(150))) * day});
    std::uint32_t outcome = pick(10);
    std::size_t reach = outcome < 4 ? p.open.size() : 1 + pick(static_cast<std::uint32_t>(p.open.size()));
    Json deal = records_
                    .create(as(a.owner, "sales"), "deal",
                            {{"name", one_of(products) + " — " + a.name}, {"account_id", a.id},
                             {"pipeline_id", p.open.front()["pipeline_id"]}, {"owner_id", a.owner},
                             {"amount", (5 + static_cast<std::int64_t>(pick(300))) * 1000 * 100},
                             {"expected_close", date_of(Timestamp{sim_.now().micros + (60 + pick(90)) * day})}})
                    .record;
    std::string id = deal["id"];
    ++counts_["deals"];
    automation::open_checklist(deps_, system(), id, p.open.front()["id"]);
    std::vector<Json> path(p.open.begin() + 1, p.open.begin() + static_cast<std::ptrdiff_t>(reach));
    if (outcome < 2 && !p.lost.is_null()) path.push_back(p.lost);
    else if (outcome < 4 && !p.won.is_null()) path.push_back(p.won);
    for (const auto& stage : path) {
      if (!advance(3 + pick(12))) break;
      log(a, id, one_of(std::vector<std::string>{"call", "email", "whatsapp", "meeting"}), a.contacts[pick(3)],
          "Acompanhamento: " + stage["name"].get<std::string>());
      finish_checklists(id);
      if (!move(a, id, stage)) break;
      automation::open_checklist(deps_, system(), id, stage["id"]);
    }
    if (records_.get(system(), "deal", id)["status"] == "won") {
      log(a, id, "system", "", "Pedido integrado ao ERP");
      log(a, id, one_of(std::vector<std::string>{"feedback", "support", "complaint", "sms"}), a.contacts[0],
          "Pós-venda: primeira entrega");
    }
  }

  // Most of a deal's open checklist items get done before it moves on.
  void finish_checklists(const std::string& deal_id) {
    store::RecordQuery q;
    q.equals = {{"deal_id", deal_id}, {"kind", "checklist"}, {"status", "open"}};
    for (const auto& t : records_.list(system(), "task", q))
      if (pick(5) != 0) records_.complete_task(system(), t["id"]);
  }

  bool move(const Account& a, const std::string& deal_id, const Json& stage) {
    std::string stage_id = stage["id"];
    if (stage["kind"] == "lost") {
      records_.move_deal_stage(as(a.owner, "sales"), deal_id, stage_id, std::nullopt, one_of(lost_reasons));
      return true;
    }
    meet_gate(a, deal_id, stage_id);
    try {
      records_.move_deal_stage(as(a.owner, "sales"), deal_id, stage_id);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::validation) throw;
      CallContext manager = as(manager_, "manager");
      manager.override_gates = true;
      manager.reason = "cliente estratégico: exceção aprovada pela gerência";
      records_.move_deal_stage(manager, deal_id, stage_id);
      ++counts_["gate overrides"];
    }
    return true;
  }

  // Does what the stage's gate asks, as a rep and a manager would.
  void meet_gate(const Account& a, const std::string& deal_id, const std::string& stage_id) {
    Json verdict = services::RecordService(deps_).deal_gate(as(a.owner, "sales"), deal_id, stage_id);
    for (const auto& unmet : verdict["unmet"]) {
      const Json& c = unmet["criterion"];
      std::string kind = c["kind"];
      if (kind == "field") meet_field(a, deal_id, c);
      if (kind == "interactions")
        for (int i = 0; i < c.value("min_count", 1); ++i) log(a, deal_id, c["types"][0], a.contacts[1], "Visita técnica");
      if (kind == "committee") meet_committee(a, deal_id, c);
      if (kind == "checklist") {
        store::RecordQuery q;
        q.equals = {{"deal_id", deal_id}, {"kind", "checklist"}, {"status", "open"}};
        for (const auto& t : records_.list(system(), "task", q))
          if (t["origin_rule"].get<std::string>().rfind("checklist:" + c["stage_id"].get<std::string>(), 0) == 0)
            records_.complete_task(system(), t["id"]);
      }
      if (kind == "approval") {
        records_.approve_deal_move(as(manager_, "manager"), deal_id, stage_id, "Dentro da alçada comercial");
        ++counts_["approvals"];
      }
    }
  }

  void meet_field(const Account& a, const std::string& deal_id, const Json& c) {
    std::string field = c["field"];
    if (field == "amount" && c.value("value", Json()).is_number())
      records_.update(as(a.owner, "sales"), "deal", deal_id, {{"amount", c["value"].get<std::int64_t>() + 100000}});
    if (field == "expected_close")
      records_.update(as(a.owner, "sales"), "deal", deal_id,
                      {{"expected_close", date_of(Timestamp{sim_.now().micros + 45 * day})}});
  }

  void meet_committee(const Account& a, const std::string& deal_id, const Json& c) {
    Json deal = records_.get(system(), "deal", deal_id);
    Json members = deal.value("contacts", Json::array());
    std::size_t next = 0;
    for (const auto& role : c["roles"]) {
      std::string holder;
      for (const auto& m : members)
        if (m.value("role", Json()) == role) holder = m["contact_id"];
      if (holder.empty()) {
        holder = a.contacts[next++ % a.contacts.size()];
        members.push_back({{"contact_id", holder}, {"role", role}});
      }
      log(a, deal_id, c.contains("types") ? c["types"][0].get<std::string>() : "meeting", holder,
          "Reunião com " + role.get<std::string>());
    }
    records_.update(as(a.owner, "sales"), "deal", deal_id, {{"contacts", members}});
  }

  // What the team sees today: follow-ups due this week and some already late, and
  // notes and proposals on the accounts.
  void create_agenda() {
    sim_.set(Timestamp{now_.micros - hour});
    for (std::size_t i = 0; i < accounts_.size(); ++i) {
      const Account& a = accounts_[i];
      std::int64_t offset = (i % 3 == 0 ? -1 : 1) * static_cast<std::int64_t>(1 + pick(5)) * day;
      records_.create(as(a.owner, "sales"), "task",
                      {{"title", "Retornar contato: " + a.name}, {"assignee_id", a.owner}, {"account_id", a.id},
                       {"contact_id", a.contacts[0]}, {"due_at", format_rfc3339(Timestamp{now_.micros + offset})}});
      ++counts_["tasks"];
      log(a, "", i % 2 ? "note" : "proposal", a.contacts[pick(3)], i % 2 ? "Resumo da conta" : "Tabela de preços 2027");
      if (i % 4 == 0) log(a, "", "visit", a.contacts[2], "Visita de relacionamento");
    }
    // Every interaction type shows in some timeline, whatever the dice said.
    const std::vector<std::string> after_sale{"sms", "complaint", "feedback", "support"};
    for (std::size_t i = 0; i < after_sale.size() && i < accounts_.size(); ++i)
      log(accounts_[i], "", after_sale[i], accounts_[i].contacts[0], "Atendimento ao cliente");
  }

  services::ServiceDependencies deps_;
  const DemoOptions& options_;
  RecordService records_;
  std::mt19937 random_;
  Timestamp now_;
  ManualClock sim_;
  SystemClock real_;
  std::string tenant_, admin_, manager_;
  std::vector<std::string> reps_;
  std::vector<Pipeline> pipelines_;
  std::vector<Account> accounts_;
  std::map<std::string, std::size_t> counts_;
};

}  // namespace

std::vector<std::string> demo_template_names() {
  std::vector<std::string> names;
  for (const auto& file : embedded_pipeline_templates()) {
    std::string name(file.name);
    names.push_back(name.substr(0, name.size() - 5));  // without .json
  }
  return names;
}

DemoResult create_demo_tenant(services::ServiceDependencies deps, const DemoOptions& options,
                              const std::function<void(const std::string&)>& progress) {
  auto names = demo_template_names();
  if (std::find(names.begin(), names.end(), options.template_name) == names.end())
    throw Error(ErrorCode::validation, "no pipeline template '" + options.template_name + "'",
                {{"template", "must be one of the shipped templates"}});
  DemoBuilder builder(deps, options, SystemClock().now());
  return builder.build(options, progress);
}

}  // namespace nucleo::app
