// One kernel service call from a plugin (SDK → C ABI → JSON → services → JSON → SDK)
// beside the same service called directly in C++, in the same run, on the same
// database (issue #8). Embedded SQLite in a temp folder: its reads are fast, so the
// ABI's share shows more than it would on PostgreSQL.
//
//   build/bench/plugin_host_call [CALLS]   (default 20000 reads and 4000 writes)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <soci/session.h>

#include "kernel/domain/version.hpp"
#include "kernel/plugins/call.hpp"
#include "kernel/plugins/host.hpp"
#include "kernel/services/record_service.hpp"
#include "kernel/services/tenant_service.hpp"
#include "kernel/store/migrations.hpp"

namespace {

using namespace nucleo;

struct Stats {
  double p50, p99, mean;  // µs
};

Stats stats(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double u : us) sum += u;
  return {us[us.size() / 2], us[us.size() * 99 / 100], sum / static_cast<double>(us.size())};
}

// Times `n` direct RecordService calls.
std::vector<double> direct(services::ServiceDependencies deps, const services::CallContext& ctx, const std::string& op,
                           const std::string& id, int n, int& created) {
  std::vector<double> us;
  services::RecordService records(deps);
  for (int i = 0; i < n; ++i) {
    auto start = std::chrono::steady_clock::now();
    if (op == "get") records.get(ctx, "contact", id);
    else records.create(ctx, "contact", {{"name", "Direct " + std::to_string(created++)}});
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  return us;
}

// Asks the bench plugin's route to time `n` calls through the ABI.
std::vector<double> through_abi(const plugins::RegisteredRoute& route, const services::CallContext& ctx,
                                const std::string& op, const std::string& id, int n) {
  nucleo_call call{ctx};
  std::string request = Json{{"body", {{"op", op}, {"id", id}, {"n", n}}}}.dump();
  nucleo_plugin_buffer out{nullptr, 0};
  if (route.handler(route.user_data, &call, nucleo_view{request.data(), request.size()}, &out) != NUCLEO_OK)
    throw std::runtime_error("the bench route failed: " + std::string(out.data, out.size));
  Json answer = Json::parse(std::string(out.data, out.size));
  route.free_buffer(out);
  std::vector<double> us;
  for (const auto& ns : answer["body"]["nanos"]) us.push_back(ns.get<double>() / 1000.0);
  return us;
}

void report(const char* what, int rounds, const std::vector<double>& d, const std::vector<double>& a) {
  Stats sd = stats(d), sa = stats(a);
  std::printf("%s, %zu calls each, interleaved in %d rounds\n", what, d.size(), rounds);
  std::printf("direct    RecordService in C++:           p50 %7.1f µs, p99 %7.1f µs, mean %7.1f µs\n", sd.p50, sd.p99,
              sd.mean);
  std::printf("abi       plugin → call_service (JSON):   p50 %7.1f µs, p99 %7.1f µs, mean %7.1f µs"
              "  (+%.1f µs a call, %.2f× direct)\n",
              sa.p50, sa.p99, sa.mean, sa.mean - sd.mean, sa.mean / sd.mean);
}

}  // namespace

int main(int argc, char** argv) {
  const int calls = argc > 1 ? std::atoi(argv[1]) : 20000;
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("nucleo-bench-host-call-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    SystemClock clock;
    auto url = store::parse_database_url("sqlite:" + (dir / "bench.db").string());
    soci::session owner;
    store::open_session(owner, url);
    store::migrate(owner, url.backend, clock);
    store::Database db(url, 2, std::chrono::seconds(5));
    services::ValidatorRegistry validators;
    services::SensitiveData sensitive;
    auto secrets = services::SecretBox::generate();
    services::AttributeSchemas attribute_schemas;
    services::CustomerExtensions customer_extensions;
    services::ImportFormats import_formats;
    services::ServiceDependencies deps{db, db, validators, NormalisationSettings{"BR"}, sensitive, secrets,
                                       attribute_schemas, customer_extensions, import_formats};
    services::CallContext ctx;
    ctx.actor = {"system", "bench", ""};
    ctx.request_id = "bench";
    ctx.clock = &clock;
    ctx.tenant_id = services::TenantService(deps).create(ctx, "Bench")["id"];
    std::string id = services::RecordService(deps).create(ctx, "contact", {{"name", "Ana"}, {"email", "ana@example.com"}}).record["id"];

    plugins::PluginHost host(*plugins::parse_version(nucleo_version), deps);
    host.load({{"bench", BENCH_PLUGIN_DIR, Json::object()}});
    if (host.routes().empty()) {
      std::cerr << "bench plugin not loaded: " << host.statuses().front().problem << "\n";
      return 1;
    }
    const auto& route = host.routes().front();

    int created = 0;
    direct(deps, ctx, "get", id, 500, created);  // warm up both paths
    through_abi(route, ctx, "get", id, 500);
    const int rounds = 5;
    for (const auto& [op, n, label] : {std::tuple{std::string("get"), calls, "records.get (a contact)"},
                                      std::tuple{std::string("create"), calls / 5, "records.create (a contact, audited)"}}) {
      std::vector<double> d, a;
      for (int r = 0; r < rounds; ++r) {
        auto dr = direct(deps, ctx, op, id, n / rounds, created);
        auto ar = through_abi(route, ctx, op, id, n / rounds);
        d.insert(d.end(), dr.begin(), dr.end());
        a.insert(a.end(), ar.begin(), ar.end());
      }
      report(label, rounds, d, a);
    }
  }
  fs::remove_all(dir);
  return 0;
}
