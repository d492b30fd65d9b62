// `nucleo tenant|user|key …`: administration from the command line. Every write goes
// through the services, so it is validated and audited like an API call; the actor
// is {type: system, id: cli}.
#include <fstream>
#include <map>
#include <optional>
#include <iostream>
#include <sstream>

#include "kernel/app/admin_call.hpp"
#include "kernel/app/commands.hpp"
#include "kernel/app/demo_data.hpp"
#include "kernel/app/kernel_runtime.hpp"
#include "kernel/app/settings.hpp"
#include "kernel/domain/version.hpp"
#include "kernel/plugins/host.hpp"
#include "kernel/automation/pipeline_definition.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/services/api_key_service.hpp"
#include "kernel/services/privacy_service.hpp"
#include "kernel/services/retention.hpp"
#include "kernel/services/sign_in_service.hpp"
#include "kernel/automation/rule_files.hpp"
#include "kernel/services/record_service.hpp"
#include "kernel/services/tenant_move.hpp"
#include "kernel/services/tenant_service.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::app {

namespace {

std::string subcommand(const ParsedArgs& args, const std::string& command, const std::vector<std::string>& allowed) {
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : "|") + a;
  if (args.positionals.empty())
    throw Error(ErrorCode::validation, "missing subcommand: nucleo " + command + " " + list,
                {{"subcommand", "missing"}});
  const std::string& sub = args.positionals.front();
  if (std::find(allowed.begin(), allowed.end(), sub) == allowed.end())
    throw Error(ErrorCode::validation, "unknown subcommand '" + sub + "': nucleo " + command + " " + list,
                {{"subcommand", "unknown"}});
  return sub;
}

std::string text_value(const Json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

void print_table(std::ostream& out, const std::vector<Json>& rows, const std::vector<std::string>& fields, bool json) {
  if (json) {
    for (const auto& r : rows) out << r.dump() << "\n";
    return;
  }
  for (std::size_t i = 0; i < fields.size(); ++i) out << (i ? "\t" : "") << fields[i];
  out << "\n";
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < fields.size(); ++i) out << (i ? "\t" : "") << text_value(r.value(fields[i], Json()));
    out << "\n";
  }
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) items.push_back(item);
  return items;
}


// The clusters a move may use: home (store.owner_url) and every clusters.<name>.
std::vector<services::ClusterOwner> cluster_owners(const StoreSettings& store) {
  std::vector<services::ClusterOwner> clusters{{store::home_cluster, store.owner_url}};
  for (const auto& c : store.clusters) clusters.push_back({c.name, c.owner_url});
  return clusters;
}

void print_move(std::ostream& out, const services::TenantMoveReport& report, const std::string& verb) {
  for (const auto& [table, rows] : report.rows)
    if (rows) out << "# " << rows << " " << table << " rows " << verb << "\n";
  out << "tenant=" << report.tenant_id << "\nfrom=" << report.from << "\nto=" << report.to << "\n";
}

int run_move(AdminCall& call, const ParsedArgs& args, std::ostream& out, std::ostream& err) {
  std::string tenant = AdminCall::require(args, "tenant");
  const StoreSettings& store = call.runtime.store_settings();
  if (store.clusters.empty())
    throw Error(ErrorCode::validation, "no other cluster is configured: name one as clusters.<name>.url (docs/configuration.md)",
                {{"clusters", "none configured"}});
  services::TenantMove move(call.runtime.dependencies(), cluster_owners(store), store.placement_cache * 2 + std::chrono::milliseconds(500),
                            [&err](const std::string& line) { err << "nucleo tenant move: " << line << "\n"; });
  if (args.has("abort")) {
    move.abort(call.ctx, tenant);
    out << "tenant=" << tenant << "\nmoving=false\n";
  } else if (args.has("confirm")) {
    print_move(out, move.confirm(call.ctx, tenant), "removed from the old copy");
  } else {
    std::string wait_text = args.has("wait") ? args.value("wait") : "60";
    if (wait_text.empty() || wait_text.size() > 5 || wait_text.find_first_not_of("0123456789") != std::string::npos)
      throw Error(ErrorCode::validation, "--wait must be a whole number of seconds (0 to 99999), not '" + wait_text + "'",
                  {{"wait", "expected seconds"}});
    long wait = std::stol(wait_text);
    auto report = move.move(call.ctx, tenant, AdminCall::require(args, "to"), std::chrono::seconds(wait));
    print_move(out, report, "copied and verified");
    out << "audit_size=" << report.audit_size << "\naudit_root=" << report.audit_root << "\n";
    if (report.failed_deliveries_left)
      err << "nucleo tenant move: " << report.failed_deliveries_left << " failed event deliveries stay with the old copy\n";
    err << "nucleo tenant move: the old copy stays on '" << report.from << "'; remove it with: nucleo tenant move --tenant "
        << tenant << " --confirm\n";
  }
  return exit_ok;
}

int run_tenant(const ParsedArgs& args, std::ostream& out, std::ostream& err) {
  std::string sub = subcommand(args, "tenant", {"create", "set-time-zone", "list", "move"});
  AdminCall call(args);
  if (sub == "move") return run_move(call, args, out, err);
  services::TenantService tenants(call.runtime.dependencies());
  if (sub == "create") {
    Json tenant = tenants.create(call.ctx, AdminCall::require(args, "name"), args.value("time-zone"));
    std::vector<std::string> shown{"id", "name"};
    if (tenant["time_zone"].is_string()) shown.push_back("time_zone");
    call.print_written(out, tenant, shown, args.has("json"));
  } else if (sub == "set-time-zone") {
    Json tenant = tenants.set_time_zone(call.ctx, AdminCall::require(args, "tenant"), AdminCall::require(args, "time-zone"));
    call.print_written(out, tenant, {"id", "name", "time_zone"}, args.has("json"));
  } else {
    print_table(out, tenants.list(), {"id", "name", "created_at"}, args.has("json"));
  }
  return exit_ok;
}

int run_user(const ParsedArgs& args, std::ostream& out) {
  std::string sub = subcommand(args, "user", {"create", "list", "set-password"});
  AdminCall call(args);
  call.enter_tenant(args);
  services::RecordService records(call.runtime.dependencies());
  const std::vector<std::string> fields{"id", "name", "email", "role", "active"};
  if (sub == "create") {
    Json input = {{"name", args.value("name")}, {"email", args.value("email")}, {"role", args.value("role")}};
    if (args.has("time-zone")) input["time_zone"] = args.value("time-zone");
    call.print_written(out, records.create(call.ctx, "user", input).record, fields, args.has("json"));
  } else if (sub == "set-password") {
    // From standard input, never the command line (where `ps` and the shell's history
    // would show it): the first admin's way in, and a recovery.
    std::string password;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    std::string user = AdminCall::require(args, "user");
    services::SignInService(call.runtime.dependencies(), read_api_settings(call.config).sign_in)
        .set_password(call.ctx, user, password, std::nullopt);
    out << "password_set=" << user << "\n";
  } else {
    print_table(out, records.list(call.ctx, "user", {{}, "", 1000, false}), fields, args.has("json"));
  }
  return exit_ok;
}

int run_key(const ParsedArgs& args, std::ostream& out, std::ostream& err) {
  std::string sub = subcommand(args, "key", {"create", "list", "revoke"});
  AdminCall call(args);
  call.enter_tenant(args);
  services::ApiKeyService keys(call.runtime.dependencies());
  const std::vector<std::string> fields{"id", "name", "role", "user_id", "integration", "expires_at", "revoked_at"};
  if (sub == "create") {
    Json input = {{"name", args.value("name")},
                  {"role", args.value("role", args.has("integration") ? "integration" : "")}};
    if (args.has("user")) input["user_id"] = args.value("user");
    if (args.has("integration")) input["integration"] = true;
    if (args.has("scopes")) input["scopes"] = split_list(args.value("scopes"));
    if (args.has("expires-at")) input["expires_at"] = args.value("expires-at");
    services::CreatedKey created = keys.create(call.ctx, input);
    Json shown = created.key;
    shown["secret"] = created.secret;
    call.print_written(out, shown, {"id", "secret", "role"}, args.has("json"));
    err << "nucleo key: store the secret now; it is not shown again\n";
  } else if (sub == "list") {
    print_table(out, keys.list(call.ctx), fields, args.has("json"));
  } else {
    if (args.positionals.size() != 2)
      throw Error(ErrorCode::validation, "usage: nucleo key revoke --tenant ID KEY_ID", {{"KEY_ID", "is required"}});
    print_record(out, keys.revoke(call.ctx, args.positionals[1]).record, {"id", "revoked_at"}, args.has("json"));
  }
  return exit_ok;
}

// nucleo privacy retention [--dry-run]: the run the daily job makes, or what it would
// touch; one line per policy, then (with --json) the whole plan or run.
int run_retention(AdminCall& call, const ParsedArgs& args, std::ostream& out) {
  services::RetentionService retention(call.runtime.dependencies());
  const bool dry_run = args.has("dry-run");
  Json result = dry_run ? retention.plan(call.ctx) : retention.run(call.ctx);
  if (args.has("json")) {
    out << result.dump() << "\n";
    return exit_ok;
  }
  if (result["policies"].empty()) out << "no retention policies: define them with PUT /v1/privacy/retention/policies/{key}\n";
  for (const auto& p : result["policies"]) {
    out << p["key"].get<std::string>() << " (" << p["entity"].get<std::string>() << ", before " << p["cutoff"].get<std::string>()
        << "): ";
    if (p["status"] == "disabled") {
      out << "disabled\n";
      continue;
    }
    if (p["status"] == "in_grace") out << "in its grace period until " << p["grace_ends_at"].get<std::string>() << ", ";
    out << (dry_run ? "would touch " + p["would_touch"].dump() : "touched " + p["touched"].dump()) << ", "
        << p["held"].dump() << " under legal hold" << (p["more"] == true ? ", more left for the next run" : "") << "\n";
    if (dry_run)
      for (const auto& r : p["records"]) out << "  " << r["entity_type"].get<std::string>() << " " << r["id"].get<std::string>() << "\n";
  }
  if (!dry_run) out << "run " << result["run_id"].get<std::string>() << "\n";
  return exit_ok;
}

int run_privacy(const ParsedArgs& args, std::ostream& out) {
  std::string sub = subcommand(args, "privacy", {"erase", "hold", "lift", "holds", "retention"});
  AdminCall call(args);
  call.enter_tenant(args);
  if (sub == "retention") return run_retention(call, args, out);
  services::PrivacyService privacy(call.runtime.dependencies());
  const std::vector<std::string> hold_fields{"id", "subject_id", "reason", "placed_at", "active", "lifted_at"};
  if (sub == "erase") {
    auto report = privacy.erase_contact(call.ctx, AdminCall::require(args, "contact"), AdminCall::require(args, "reason"));
    print_record(out, report.to_json(),
                 {"contact_id", "erased_at", "interactions_erased", "sealed_values_destroyed",
                  "idempotency_records_purged", "outbox_events_purged", "audit_event_id"},
                 args.has("json"));
  } else if (sub == "hold") {
    print_record(out, privacy.place_hold(call.ctx, AdminCall::require(args, "contact"), AdminCall::require(args, "reason")),
                 hold_fields, args.has("json"));
  } else if (sub == "lift") {
    if (args.positionals.size() != 2)
      throw Error(ErrorCode::validation, "usage: nucleo privacy lift --tenant ID HOLD_ID --reason TEXT",
                  {{"hold", "missing"}});
    print_record(out, privacy.lift_hold(call.ctx, args.positionals[1], AdminCall::require(args, "reason")),
                 hold_fields, args.has("json"));
  } else {
    print_table(out, privacy.holds(call.ctx, args.value("contact")), hold_fields, args.has("json"));
  }
  return exit_ok;
}

}  // namespace

Json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorCode::validation, "cannot read " + path, {{"file", "cannot be read"}});
  std::stringstream text;
  text << in.rdbuf();
  try {
    return Json::parse(text.str());
  } catch (const Json::parse_error& e) {
    throw Error(ErrorCode::validation, path + " is not JSON: " + e.what(), {{"file", "is not JSON"}});
  }
}

// Text output is `field=value` lines (one record) or a tab-separated table with a
// header line (lists): both easy to read and to cut/awk. --json prints JSON.
void print_record(std::ostream& out, const Json& record, const std::vector<std::string>& fields, bool json) {
  if (json) {
    out << record.dump() << "\n";
    return;
  }
  for (const auto& f : fields) out << f << "=" << text_value(record.value(f, Json())) << "\n";
}


// One line per change: "update stage proposta (stg_…): name, position".
void print_pipeline_changes(std::ostream& out, const Json& result) {
  for (const auto& c : result["changes"]) {
    std::string key = c.value("key", Json()).is_string() ? c["key"].get<std::string>() + " " : "";
    out << c["op"].get<std::string>() << " " << c["entity"].get<std::string>() << " " << key << "("
        << c["id"].get<std::string>() << ")";
    std::string fields;
    const Json changed = c.value("fields", Json::object());
    for (const auto& [f, d] : changed.items()) fields += (fields.empty() ? "" : ", ") + f;
    if (!fields.empty()) out << ": " << fields;
    if (c.contains("deals_moved")) out << " (" << c["deals_moved"].get<std::size_t>() << " deals moved)";
    out << "\n";
  }
  std::size_t n = result["changes"].size();
  if (n == 0) out << "no changes: the pipelines already match the file\n";
  else if (result["dry_run"] == true) out << "dry run: " << n << " change(s), nothing written\n";
  else out << "applied " << n << " change(s)\n";
}


int run_pipeline(const ParsedArgs& args, std::ostream& out) {
  subcommand(args, "pipeline", {"apply"});
  AdminCall call(args);
  call.enter_tenant(args);
  Json document = read_json_file(AdminCall::require(args, "file"));
  Json result = automation::apply_pipeline_document(call.runtime.dependencies(), call.ctx, document, args.has("dry-run"));
  if (args.has("json")) out << result.dump() << "\n";
  else print_pipeline_changes(out, result);
  return exit_ok;
}

// nucleo automation apply --tenant ID --dir D [--dry-run]: one line per rule changed.
int run_automation(const ParsedArgs& args, std::ostream& out) {
  subcommand(args, "automation", {"apply"});
  AdminCall call(args);
  call.enter_tenant(args);
  auto files = automation::read_rule_files(AdminCall::require(args, "dir"));
  Json result = automation::apply_rule_files(call.runtime.dependencies(), call.ctx, files, args.has("dry-run"));
  if (args.has("json")) {
    out << result.dump() << "\n";
    return exit_ok;
  }
  for (const auto& c : result["changes"]) {
    out << c["op"].get<std::string>() << " rule " << c["key"].get<std::string>() << " (" << c["id"].get<std::string>()
        << ") from " << c["file"].get<std::string>();
    std::string fields;
    for (const auto& f : c.value("fields", Json::array())) fields += (fields.empty() ? "" : ", ") + f.get<std::string>();
    out << (fields.empty() ? "" : ": " + fields) << "\n";
  }
  std::size_t n = result["changes"].size();
  out << result["unchanged"].size() << " rule(s) unchanged; ";
  if (n == 0) out << "no changes: the rules already match the directory\n";
  else if (result["dry_run"] == true) out << "dry run: " << n << " change(s), nothing written\n";
  else out << "applied " << n << " change(s)\n";
  return exit_ok;
}

// A vertical pack's demo: its template and name, and the pack that adds its own data.
struct VerticalDemo {
  std::string plugin_id, template_name, tenant_name;
  std::vector<std::string> account_names, contact_titles;  // empty: the demo's hospitals
};

VerticalDemo vertical_demo(const std::string& vertical) {
  static const std::map<std::string, VerticalDemo> packs{
      {"healthcare", {"org.nucleo.healthcare", "hospital-supply", "Demo — Saúde (pack healthcare)"}},
      {"finance", {"org.nucleo.finance", "bank-corporate-credit", "Demo — Crédito corporativo (pack finance)"}},
      {"agro",
       {"org.nucleo.agro", "agro-inputs-safra", "Demo — Insumos e safra (pack agro)",
        {"Fazenda Santa Rita", "Agropecuária Bom Futuro", "Cooperativa Agroindustrial Vale Verde", "Sítio Boa Esperança",
         "Fazendas Irmãos Zanatta", "Agrícola Rio Claro", "Fazenda Três Lagoas", "Cooperativa dos Produtores do Cerrado"},
        {"Produtor responsável", "Agrônomo", "Gerente de compras"}}},
      {"retail",
       {"org.nucleo.retail", "retail-supplier-onboarding", "Demo — Fornecedor no varejo (pack retail)",
        {"Supermercados Vale", "Rede Bom Preço", "Atacadão do Centro", "Farmácias Saúde Já", "Mercado da Vila",
         "Hiper Sul", "Empório Paulista", "Rede Nordeste de Supermercados"},
        {"Comprador da categoria", "Gerente de loja", "Analista de abastecimento"}}},
      {"education",
       {"org.nucleo.education", "education-solutions", "Demo — Soluções educacionais (pack education)",
        {"Colégio São Francisco", "Universidade do Cerrado", "Escola Vila Nova", "Centro Universitário Paulista",
         "Colégio Santa Maria", "Instituto Federal de Tecnologia", "Escola Crescer", "Faculdade de Ciências Aplicadas"},
        {"Diretora pedagógica", "Coordenador de TI", "Diretor financeiro"}}}};
  auto it = packs.find(vertical);
  if (it == packs.end()) {
    std::string names;
    for (const auto& [name, pack] : packs) names += (names.empty() ? "" : ", ") + name;
    throw Error(ErrorCode::validation, "--vertical must be one of " + names + ", not '" + vertical + "'", {{"vertical", names}});
  }
  return it->second;
}

int run_demo(const ParsedArgs& args, std::ostream& out, std::ostream& err) {
  AdminCall call(args);
  DemoOptions options;
  std::optional<VerticalDemo> vertical;
  if (args.has("vertical")) {
    vertical = vertical_demo(AdminCall::require(args, "vertical"));
    options.template_name = vertical->template_name;
    options.tenant_name = vertical->tenant_name;
    options.account_names = vertical->account_names;
    options.contact_titles = vertical->contact_titles;
  }
  if (args.has("tenant-name")) options.tenant_name = AdminCall::require(args, "tenant-name");
  if (args.has("template")) options.template_name = AdminCall::require(args, "template");
  // A vertical's pack must load, as under `serve`, before anything is written: it adds
  // its own data through its "demo" job once the tenant exists.
  plugins::PluginHost plugin_host(*plugins::parse_version(nucleo_version), call.runtime.dependencies(),
                                  read_outbound_settings(call.config));
  if (vertical) {
    plugin_host.load(read_plugin_settings(call.config));
    if (!plugin_host.loaded_manifest(vertical->plugin_id)) {
      std::string why = "nucleo demo --vertical " + AdminCall::require(args, "vertical") + " needs the " +
                        vertical->plugin_id + " pack loaded: pass the deployment's configuration, e.g. --config " +
                        "config/examples/" + AdminCall::require(args, "vertical") + ".properties";
      for (const auto& s : plugin_host.statuses())
        if (!s.loaded) why += " (plugin " + s.alias + " was not loaded: " + s.problem + ")";
      throw Error(ErrorCode::validation, why, {{"vertical", "the pack is not loaded"}});
    }
  }
  err << "creating a demo tenant from the " << options.template_name << " template (about a minute)\n";
  DemoResult demo = create_demo_tenant(call.runtime.dependencies(), options,
                                       [&](const std::string& step) { err << "  " << step << "\n"; });
  if (vertical) {
    err << "  " << vertical->plugin_id << " adds its records\n";
    std::string failed = plugin_host.run_job_now(vertical->plugin_id, "demo", demo.tenant_id, {{"seed", options.seed}});
    if (!failed.empty())
      throw Error(ErrorCode::internal, vertical->plugin_id + " could not add its demo data: " + failed);
    call.runtime.database().read(demo.tenant_id, [&](store::Transaction& tx) {
      store::query(tx.session(),
                   "SELECT collection, count(*) FROM plugin_records WHERE tenant_id = :p0 AND plugin_id = :p1"
                   " GROUP BY collection ORDER BY collection",
                   {demo.tenant_id, vertical->plugin_id}, [&](const store::Row& r) {
                     demo.counts[vertical->plugin_id + " " + store::required_text(r, 0)] =
                         static_cast<std::size_t>(store::required_integer(r, 1));
                   });
      // Its fact sets too (ABI 1.8): "org.nucleo.retail facts sell_out".
      store::query(tx.session(),
                   "SELECT fact_set, count(*) FROM plugin_facts WHERE tenant_id = :p0 AND plugin_id = :p1"
                   " GROUP BY fact_set ORDER BY fact_set",
                   {demo.tenant_id, vertical->plugin_id}, [&](const store::Row& r) {
                     demo.counts[vertical->plugin_id + " facts " + store::required_text(r, 0)] =
                         static_cast<std::size_t>(store::required_integer(r, 1));
                   });
    });
  }
  Json shown = {{"tenant_id", demo.tenant_id}, {"admin_user_id", demo.admin_user_id}, {"admin_key", demo.admin_key_secret}};
  for (const auto& [what, n] : demo.counts) shown["counts"][what] = n;
  if (args.has("json")) {
    out << shown.dump() << "\n";
    return exit_ok;
  }
  out << "tenant_id=" << demo.tenant_id << "\nadmin_user_id=" << demo.admin_user_id
      << "\nadmin_key=" << demo.admin_key_secret << "\n";
  for (const auto& [what, n] : demo.counts) out << "# " << n << " " << what << "\n";
  out << "# the key is shown once. Try, with `nucleo serve` running:\n"
      << "#   curl -H 'Authorization: Bearer " << demo.admin_key_secret << "' http://127.0.0.1:8080/v1/deals?stalled=true\n"
      << "store=" << call.runtime.database().url().display << "\n";
  return exit_ok;
}

CommandSpec tenant_command() {
  CommandSpec c;
  c.name = "tenant";
  c.summary = "create, list and move tenants";
  c.positionals = "create|set-time-zone|list|move";
  c.description =
      "nucleo tenant create --name NAME [--time-zone TZ]   create a tenant; prints id=… and name=…\n"
      "nucleo tenant set-time-zone --tenant ID --time-zone TZ   move the tenant's clock (its tenant-zoned jobs\n"
      "                                   follow from their next schedule sync)\n"
      "nucleo tenant list                 one tenant per line: id, name, created_at (tab-separated)\n"
      "nucleo tenant move --tenant ID --to CLUSTER [--wait SECONDS]\n"
      "                                   move the tenant's rows to another PostgreSQL cluster\n"
      "                                   (clusters.<name>.url; 'home' is store.url's): its writes answer 503\n"
      "                                   meanwhile; row counts and the audit log's root are verified on both\n"
      "                                   sides before the directory is switched; the old copy is kept\n"
      "nucleo tenant move --tenant ID --confirm   remove the old copy the last move kept\n"
      "nucleo tenant move --tenant ID --abort     end a move that was interrupted (the tenant stays where it was)";
  c.options = {config_option(),
               {"name", "NAME", "the tenant's name (create)"},
               tenant_option,
               {"time-zone", "TZ", "IANA time zone of the tenant's scheduled plugin jobs (default UTC)"},
               {"to", "CLUSTER", "move: the cluster to move the tenant to"},
               {"wait", "SECONDS", "move: how long to wait for the tenant's queued audit and domain events (default 60)"},
               {"confirm", "", "move: remove the old copy the last move kept"},
               {"abort", "", "move: end an interrupted move"},
               json_option,
               reason_option};
  c.run = [](const ParsedArgs& args, std::ostream& out, std::ostream& err) { return run_tenant(args, out, err); };
  return c;
}

CommandSpec pipeline_command() {
  CommandSpec c;
  c.name = "pipeline";
  c.summary = "apply a pipeline definition (a template) to a tenant";
  c.positionals = "apply";
  c.description =
      "nucleo pipeline apply --tenant ID --file F [--dry-run]   make the tenant's pipelines match the\n"
      "    definition in F (docs/sales-process.md; templates in config/examples/pipelines/): pipelines\n"
      "    and stages are matched by key, changed through the services in one transaction and audited;\n"
      "    prints one line per change. Applying the same file again changes nothing. A bad file is\n"
      "    refused naming each problem by JSON pointer, and nothing is written. --dry-run shows the\n"
      "    changes and rolls them back.";
  c.options = {config_option(), tenant_option, {"file", "F", "the pipeline definition (JSON)"},
               {"dry-run", "", "show what would change; write nothing"}, json_option, reason_option};
  c.run = [](const ParsedArgs& args, std::ostream& out, std::ostream&) { return run_pipeline(args, out); };
  return c;
}

CommandSpec automation_command() {
  CommandSpec c;
  c.name = "automation";
  c.summary = "apply a directory of automation rules (rules as code) to a tenant";
  c.positionals = "apply";
  c.description =
      "nucleo automation apply --tenant ID --dir D [--dry-run]   make the tenant's rules match the *.json\n"
      "    rule documents in D (docs/automation.md; examples in config/examples/automation/): rules are\n"
      "    matched by key, created or changed through the services in one transaction and audited;\n"
      "    rules D does not name are left alone. Every problem of a document is named by file and JSON\n"
      "    pointer, and nothing is written. Applying the same directory again changes nothing.\n"
      "    --dry-run applies, shows the changes and rolls them back.";
  c.options = {config_option(), tenant_option, {"dir", "D", "the directory of rule documents (*.json)"},
               {"dry-run", "", "show what would change; write nothing"}, json_option, reason_option};
  c.run = [](const ParsedArgs& args, std::ostream& out, std::ostream&) { return run_automation(args, out); };
  return c;
}

CommandSpec demo_command() {
  CommandSpec c;
  c.name = "demo";
  c.summary = "create a demo tenant with six months of a sales team's data";
  c.description =
      "nucleo demo [--tenant-name NAME] [--template NAME]   creates a new tenant, its users (an admin,\n"
      "    a manager, three reps in three time zones), an admin key (printed once), applies a pipeline\n"
      "    template and simulates six months of selling through the services: accounts with valid\n"
      "    CNPJs, contacts, deals moved through the real stage gates, interactions of every type,\n"
      "    open and overdue tasks, stalled deals. Each run makes a new, independent tenant; the\n"
      "    records and their audit events carry the simulated dates. Templates: agro-inputs-safra,\n"
      "    bank-corporate-credit, education-solutions, hospital-supply (default),\n"
      "    retail-supplier-onboarding, university-partnership.\n"
      "nucleo demo --vertical healthcare|finance|agro|education|retail --config config/examples/<vertical>.properties\n"
      "    the same with the vertical's template, then the vertical pack (which the configuration\n"
      "    must load) adds its own records: CNES registrations, contracts, tenders, roles (healthcare);\n"
      "    KYC, screenings, suitability (finance); farms, fields, crop plans, ZARC tables (agro);\n"
      "    campuses, programs, calendars, committees (education); locations, products, twelve\n"
      "    weeks of sell-in, sell-out and inventory (retail).";
  c.options = {config_option(), {"tenant-name", "NAME", "the new tenant's name"},
               {"template", "NAME", "the pipeline template (default hospital-supply)"},
               {"vertical", "NAME", "healthcare, finance, agro, education or retail: a vertical pack's demo (its pack must be configured)"},
               json_option};
  c.run = [](const ParsedArgs& args, std::ostream& out, std::ostream& err) { return run_demo(args, out, err); };
  return c;
}

CommandSpec user_command() {
  CommandSpec c;
  c.name = "user";
  c.summary = "create and list users of a tenant";
  c.positionals = "create|list|set-password";
  c.description =
      "nucleo user create --tenant ID --name NAME --email EMAIL --role ROLE\n"
      "    ROLE: admin, manager, sales, support, marketing or auditor. Prints field=value lines.\n"
      "nucleo user list --tenant ID\n"
      "nucleo user set-password --tenant ID --user USR < password.txt\n"
      "    Sets the user's password, read from the first line of standard input (auth.min_password_length\n"
      "    characters at least), signs out their sessions and unlocks them: how the first admin signs in.";
  c.options = {config_option(),
               tenant_option,
               {"name", "NAME", "full name"},
               {"email", "EMAIL", "e-mail address"},
               {"role", "ROLE", "admin|manager|sales|support|marketing|auditor"},
               {"time-zone", "TZ", "IANA time zone (default America/Sao_Paulo)"},
               {"user", "USR", "the user whose password is set (set-password)"},
               json_option,
               reason_option};
  c.run = [](const ParsedArgs& args, std::ostream& out, std::ostream&) { return run_user(args, out); };
  return c;
}

CommandSpec key_command() {
  CommandSpec c;
  c.name = "key";
  c.summary = "create, list and revoke API keys";
  c.positionals = "create|list|revoke [KEY_ID]";
  c.description =
      "nucleo key create --tenant ID --name NAME --role ROLE --user USER_ID [--scopes a:read,b:write] [--expires-at "
      "T]\n"
      "nucleo key create --tenant ID --name NAME --integration [--scopes …]\n"
      "    Prints id=…, secret=… and role=… lines (or one JSON object with --json). The secret\n"
      "    is shown only here: Nucleo keeps only its SHA-256.\n"
      "nucleo key list --tenant ID\n"
      "nucleo key revoke --tenant ID KEY_ID";
  c.options = {config_option(),
               tenant_option,
               {"name", "NAME", "what the key is for"},
               {"role", "ROLE", "admin|manager|sales|support|marketing|auditor (user keys)"},
               {"user", "USER_ID", "the user a user key belongs to (usr_…)"},
               {"integration", "", "an integration key (role integration, no user)"},
               {"scopes", "LIST", "comma-separated scopes, e.g. deals:read,interactions:write"},
               {"expires-at", "TIME", "RFC 3339 expiry, e.g. 2027-01-01T00:00:00Z"},
               json_option,
               reason_option};
  c.run = [](const ParsedArgs& args, std::ostream& out, std::ostream& err) { return run_key(args, out, err); };
  return c;
}

CommandSpec privacy_command() {
  CommandSpec c;
  c.name = "privacy";
  c.summary = "erase a contact's personal data (LGPD/GDPR); place and lift legal holds; run retention";
  c.positionals = "erase|hold|lift [HOLD_ID]|holds|retention";
  c.description =
      "nucleo privacy erase --tenant ID --contact CON_ID --reason TEXT\n"
      "    Erases the contact's personal data: anonymises the contact (name, e-mail, phone,\n"
      "    job title) and clears its interactions' subjects and bodies, destroys the key its\n"
      "    audit values are sealed under, purges copies in\n"
      "    idempotency records and outbox payloads, and records the erasure. Refused while a\n"
      "    legal hold is active. The audit log stays verifiable (docs/compliance.md).\n"
      "nucleo privacy hold --tenant ID --contact CON_ID --reason TEXT\n"
      "    Places a legal hold: erasure is refused until it is lifted.\n"
      "nucleo privacy lift --tenant ID HOLD_ID --reason TEXT\n"
      "nucleo privacy holds --tenant ID [--contact CON_ID]\n"
      "nucleo privacy retention --tenant ID [--dry-run]\n"
      "    Runs the tenant's retention policies now, as the daily job does: each record they\n"
      "    cover is erased through the erasure path in its own transaction, those under a\n"
      "    legal hold are skipped and counted. --dry-run lists what the run would touch and\n"
      "    writes nothing.\n"
      "Every command is recorded in the audit log with its reason.";
  c.options = {config_option(), tenant_option, {"contact", "CON_ID", "the contact (data subject)"}, json_option,
               reason_option, {"dry-run", "", "retention: list what the run would touch; write nothing"}};
  c.run = [](const ParsedArgs& args, std::ostream& out, std::ostream&) { return run_privacy(args, out); };
  return c;
}

}  // namespace nucleo::app
