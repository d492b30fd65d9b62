// `nucleo insight backtest`: runs the insight plugin's backtest job now, in one tenant,
// and prints its report — the figures a team reads before trusting the scores
// (docs/insight.md, "Backtesting"). The plugin does the work through its own job, as
// `plugins run-job` would run it; this command names the job and reads the report back.
#include <chrono>
#include <iomanip>
#include <sstream>

#include "kernel/app/admin_call.hpp"
#include "kernel/app/commands.hpp"
#include "kernel/app/settings.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/domain/version.hpp"
#include "kernel/plugins/host.hpp"

namespace nucleo::app {
namespace {

const std::string insight_plugin = "org.nucleo.insight";

std::string figure(const Json& v, int decimals = 4) {
  if (!v.is_number()) return "-";
  std::ostringstream out;
  out << std::fixed << std::setprecision(decimals) << v.get<double>();
  return out.str();
}

void print_report(const Json& report, std::ostream& out) {
  for (const auto& fold : report.value("folds", Json::array())) {
    out << "as_of=" << fold.value("as_of", "") << " status=" << fold.value("status", "");
    if (fold.value("status", "") != "ok") {
      out << " closed_deals=" << fold.value("closed_deals", Json()).dump() << " needed=" << fold.value("needed", Json()).dump()
          << "\n";
      continue;
    }
    const Json& w = fold["win_probability"];
    const Json& f = fold["forecast"];
    out << " trained_on=" << fold["trained_on"]["closed_deals"].dump() << " scored=" << fold["deals_scored"].dump()
        << "\n  brier=" << figure(w["brier"]) << " baseline_brier=" << figure(w["baseline_brier"])
        << " log_loss=" << figure(w["log_loss"]) << " baseline_log_loss=" << figure(w["baseline_log_loss"])
        << "\n  forecast next " << fold.value("horizon_days", 0) << " days: actual=" << figure(f["actual"], 0)
        << " expected=" << figure(f["expected"], 0) << " interval_80=[" << figure(f["p10"], 0) << ", "
        << figure(f["p90"], 0) << "] covered=" << (f.value("covered", false) ? "yes" : "no")
        << " ape=" << figure(f["absolute_percentage_error"]) << " baseline_ape="
        << figure(f["baseline_absolute_percentage_error"]) << "\n";
  }
  const Json& s = report.value("summary", Json::object());
  out << "summary status=" << s.value("status", "");
  if (s.value("status", "") == "ok")
    out << " brier=" << figure(s["brier"]) << " baseline_brier=" << figure(s["baseline_brier"])
        << " mape=" << figure(s["mape"]) << " baseline_mape=" << figure(s["baseline_mape"])
        << " interval_coverage=" << figure(s["interval_coverage"], 2);
  out << "\n";
}

int backtest(const ParsedArgs& args, std::ostream& out, std::ostream& err) {
  std::string as_of = AdminCall::require(args, "as-of");
  Json folds = Json::parse(args.has("folds") ? AdminCall::require(args, "folds") : "1", nullptr, false);
  if (!folds.is_number_integer() || folds.get<int>() < 1 || folds.get<int>() > 24)
    throw Error(ErrorCode::validation, "--folds must be an integer from 1 to 24", {{"folds", "1-24"}});
  Json payload{{"as_of", as_of}, {"folds", folds}};
  if (args.has("horizon-days")) {
    Json horizon = Json::parse(AdminCall::require(args, "horizon-days"), nullptr, false);
    if (!horizon.is_number_integer() || horizon.get<int>() < 1 || horizon.get<int>() > 365)
      throw Error(ErrorCode::validation, "--horizon-days must be an integer from 1 to 365", {{"horizon-days", "1-365"}});
    payload["horizon_days"] = horizon;
  }
  AdminCall call(args);
  call.enter_tenant(args);
  plugins::PluginHost host(*plugins::parse_version(nucleo_version), call.runtime.dependencies(),
                           read_outbound_settings(call.config));
  host.load(read_plugin_settings(call.config));
  auto store = host.record_store(insight_plugin);
  if (!store) {
    std::string why = insight_plugin + " is not loaded: configure plugins.insight.file (docs/insight.md)";
    for (const auto& s : host.statuses())
      if (!s.loaded) why += " (plugin " + s.alias + " was not loaded: " + s.problem + ")";
    throw Error(ErrorCode::validation, why, {{"config", "the insight plugin is not loaded"}});
  }
  std::string report_id = "cli-" + std::to_string(call.ctx.now().micros);
  payload["report_id"] = report_id;
  err << "backtesting " << folds.get<int>() << " fold(s) as of " << as_of << "…\n";
  auto started = std::chrono::steady_clock::now();
  std::string failed = host.run_job_now(insight_plugin, "backtest", call.ctx.tenant_id, payload);
  if (!failed.empty()) {
    err << "nucleo insight backtest: " << failed << "\n";
    return exit_failure;
  }
  Json report = store->get(call.ctx, "backtests", report_id)["document"];
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (args.has("json")) {
    out << report.dump() << "\n";
  } else {
    print_report(report, out);
    out << "report=" << report_id << " seconds=" << figure(seconds, 1) << "\n";
  }
  return exit_ok;
}

int run_insight(const ParsedArgs& args, std::ostream& out, std::ostream& err) {
  std::string sub = args.positionals.empty() ? "" : args.positionals.front();
  if (sub == "backtest" && args.positionals.size() == 1) return backtest(args, out, err);
  err << "nucleo insight: expected backtest\n";
  return exit_bad_usage;
}

}  // namespace

CommandSpec insight_command() {
  CommandSpec c;
  c.name = "insight";
  c.summary = "backtest the insight plugin's win probability and forecast on a tenant's own history";
  c.positionals = "backtest";
  c.description =
      "nucleo insight backtest --tenant ID --as-of YYYY-MM-DD [--folds N] [--horizon-days N] [--json]\n"
      "    Loads the configured plugins as serve does and runs org.nucleo.insight's backtest:\n"
      "    trains on the deals closed before the date only, scores the deals open then against\n"
      "    how they ended, and forecasts the next horizon_days against the amount actually won.\n"
      "    Prints, per fold (each one horizon earlier than the last), the Brier score and\n"
      "    log-loss beside the stage-weighted baseline's, the forecast with its 80% interval\n"
      "    and its error beside the baseline's, then a summary (MAPE, interval coverage). The\n"
      "    report is stored in the plugin's backtests (GET /v1/x/org.nucleo.insight/backtests).";
  c.options = {config_option(), tenant_option, {"as-of", "YYYY-MM-DD", "the date the backtest stands on"},
               {"folds", "N", "how many dates, one horizon apart, going back (1-24; default 1)"},
               {"horizon-days", "N", "the forecast's period (1-365; default the tenant's horizon_days setting)"},
               {"json", "", "print the whole report as JSON"}};
  c.run = run_insight;
  return c;
}

}  // namespace nucleo::app
