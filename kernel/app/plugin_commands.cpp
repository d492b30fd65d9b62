// `nucleo plugins list|inspect`: what is installed, read from the manifests alone —
// no plugin code is loaded, so a broken or hostile library cannot run here. And
// `nucleo plugins run-job`, which loads the configured plugins as `serve` does to run one
// job now (a screening after a list import, a benchmark).
#include <chrono>
#include <filesystem>
#include <iostream>

#include "kernel/app/admin_call.hpp"
#include "kernel/app/commands.hpp"
#include "kernel/app/configuration.hpp"
#include "kernel/app/settings.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/domain/version.hpp"
#include "kernel/plugins/abi_tag.hpp"
#include "kernel/plugins/host.hpp"
#include "kernel/plugins/manifest.hpp"

namespace nucleo::app {
namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

// Whether the plugin can run here, from what is readable without loading its code:
// the manifest's kernel range and the library's ABI tag (plugin_abi.h).
struct Verdict {
  bool runs = false;
  std::string abi;  // "1.2", or "" when the library carries no tag
  std::string why;  // when it does not run, or cannot be told
};

Verdict runs_on_this_kernel(const plugins::Manifest& m, const std::string& folder) {
  Verdict v;
  auto kernel = plugins::parse_version(nucleo_version);
  if (!kernel || !m.kernel.contains(*kernel)) {
    v.why = "plugin.json asks for kernel " + m.kernel.text() + "; this is " + std::string(nucleo_version);
    return v;
  }
  try {
    auto tag = plugins::read_abi_tag((std::filesystem::path(folder) / m.library).string());
    if (!tag) {
      v.why = "unknown: " + m.library + " carries no ABI tag (built before ABI 1.2, or without NUCLEO_PLUGIN); "
              "nucleo serve checks its descriptor at load";
      return v;
    }
    v.abi = tag->text();
    if (auto problem = plugins::abi_incompatibility(*tag)) {
      v.why = *problem;
      return v;
    }
  } catch (const Error& e) {
    v.why = e.what();
    return v;
  }
  v.runs = true;
  return v;
}

Json verdict_json(const Verdict& v) {
  Json out{{"runs_on_this_kernel", v.runs}, {"abi", v.abi.empty() ? Json() : Json(v.abi)}};
  if (!v.why.empty()) out["why_not"] = v.why;
  return out;
}

std::string verdict_text(const Verdict& v) {
  return v.runs ? "yes" : v.why.rfind("unknown", 0) == 0 ? "unknown" : "no";
}

int inspect(const std::string& path, bool json, std::ostream& out) {
  std::string folder;
  plugins::Manifest m = plugins::read_manifest(path, &folder);
  Verdict verdict = runs_on_this_kernel(m, folder);
  Json shown = plugins::to_json(m);
  shown.update(verdict_json(verdict));
  if (json) {
    out << shown.dump() << "\n";
    return exit_ok;
  }
  std::vector<std::string> requires_plugins, settings;
  for (const auto& r : m.requires_plugins) requires_plugins.push_back(r.id + " " + r.versions.text());
  for (const auto& [key, rule] : m.config_schema.items())
    settings.push_back(key + (rule.value("required", false) ? "*" : ""));
  out << "id=" << m.id << "\nversion=" << m.version.text() << "\nkind=" << m.kind << "\nstatus=" << m.status
      << "\nlibrary=" << m.library << "\nabi=" << (verdict.abi.empty() ? "-" : verdict.abi)
      << "\nkernel=" << m.kernel.text() << "\nruns_on_this_kernel=" << verdict_text(verdict)
      << (verdict.why.empty() ? "" : " (" + verdict.why + ")") << "\nrequires=" << joined(requires_plugins)
      << "\ndata_classes=" << joined(m.data_classes) << "\nsettings=" << joined(settings) << "\n";
  return exit_ok;
}

// One line per configured plugin (plugins.<alias>.file); a manifest that cannot be
// read is listed with the reason, not fatal: this is where an operator looks first.
int list(const ParsedArgs& args, bool json, std::ostream& out) {
  Configuration config = load_configuration(args.value("config"), process_environment());
  if (!json) out << "alias\tid\tversion\tkind\tstatus\truns_on_this_kernel\tfile\n";
  for (const auto& setting : read_plugin_settings(config)) {
    const std::string& alias = setting.alias;
    const std::string& file = setting.file;
    Json row{{"alias", alias}, {"file", file}};
    std::string runs;
    try {
      std::string folder;
      plugins::Manifest m = plugins::read_manifest(file, &folder);
      Verdict verdict = runs_on_this_kernel(m, folder);
      row.update({{"id", m.id}, {"version", m.version.text()}, {"kind", m.kind}, {"status", m.status}});
      row.update(verdict_json(verdict));
      runs = verdict_text(verdict);
    } catch (const Error& e) {
      row["error"] = e.what();
    }
    if (json) {
      out << row.dump() << "\n";
      continue;
    }
    if (row.contains("error")) {
      out << alias << "\t-\t-\t-\t-\t-\t" << file << "\t(" << row["error"].get<std::string>() << ")\n";
      continue;
    }
    out << alias << "\t" << row["id"].get<std::string>() << "\t" << row["version"].get<std::string>() << "\t"
        << row["kind"].get<std::string>() << "\t" << row["status"].get<std::string>() << "\t"
        << runs << "\t" << file << "\n";
  }
  return exit_ok;
}

// Runs a configured plugin's job once, on this process, in one tenant, as the plugin.
int run_job(const ParsedArgs& args, std::ostream& out, std::ostream& err) {
  std::string plugin = AdminCall::require(args, "plugin"), job = AdminCall::require(args, "job");
  Json payload = args.has("payload") ? Json::parse(AdminCall::require(args, "payload"), nullptr, false) : Json::object();
  if (!payload.is_object())
    throw Error(ErrorCode::validation, "--payload must be a JSON object", {{"payload", "not a JSON object"}});
  AdminCall call(args);
  call.enter_tenant(args);
  plugins::PluginHost host(*plugins::parse_version(nucleo_version), call.runtime.dependencies(),
                           read_outbound_settings(call.config));
  host.load(read_plugin_settings(call.config));
  for (const auto& s : host.statuses())
    if (!s.loaded) err << "plugin " << s.alias << " was not loaded: " << s.problem << "\n";
  auto started = std::chrono::steady_clock::now();
  std::string failed = host.run_job_now(plugin, job, call.ctx.tenant_id, payload);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!failed.empty()) {
    err << "nucleo plugins run-job: " << failed << "\n";
    return exit_failure;
  }
  out << "job=" << job << "\nplugin=" << plugin << "\nseconds=" << seconds << "\n";
  return exit_ok;
}

int run_plugins(const ParsedArgs& args, std::ostream& out, std::ostream& err) {
  std::string sub = args.positionals.empty() ? "" : args.positionals.front();
  if (sub == "list" && args.positionals.size() == 1) return list(args, args.has("json"), out);
  if (sub == "inspect" && args.positionals.size() == 2) return inspect(args.positionals[1], args.has("json"), out);
  if (sub == "run-job" && args.positionals.size() == 1) return run_job(args, out, err);
  err << "nucleo plugins: expected list, inspect PATH (a plugin.json or its folder), or run-job\n";
  return exit_bad_usage;
}

}  // namespace

CommandSpec plugins_command() {
  CommandSpec c;
  c.name = "plugins";
  c.summary = "list configured plugins; inspect a plugin's manifest without loading it; run a plugin's job now";
  c.positionals = "list | inspect PATH | run-job";
  c.description =
      "nucleo plugins list\n"
      "    One line per plugins.<alias>.file in the configuration: alias, id, version, kind,\n"
      "    status, whether it runs on this kernel, file — or why its manifest cannot be read.\n"
      "nucleo plugins inspect PATH\n"
      "    PATH is a plugin.json or the folder holding one. Prints id, version, kind, status,\n"
      "    library, the ABI the library was built for (read from its .nucleo_abi section),\n"
      "    kernel range, whether it runs on this kernel (yes, no or unknown, with why),\n"
      "    required plugins, data classes and settings (* = required). Exit 2 naming each\n"
      "    problem when the manifest is invalid.\n"
      "Neither loads plugin code.\n"
      "nucleo plugins run-job --tenant ID --plugin PLUGIN_ID --job NAME [--payload JSON]\n"
      "    Loads the configured plugins as serve does and runs one job of PLUGIN_ID once, now,\n"
      "    in the tenant, as the plugin (org.nucleo.finance's pep-screening after a list import,\n"
      "    with --payload '{\"force\": true}'). Prints job=, plugin= and seconds=; exit 1 with the\n"
      "    job's error.";
  c.options = {config_option(), {"json", "", "print JSON (one object per line)"}, tenant_option,
               {"plugin", "PLUGIN_ID", "run-job: the plugin whose job runs"},
               {"job", "NAME", "run-job: the job, as the plugin registered it"},
               {"payload", "JSON", "run-job: the job's payload (an object; default {})"}};
  c.run = run_plugins;
  return c;
}

}  // namespace nucleo::app
