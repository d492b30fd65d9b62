#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/PatternFormatter.h>
#include <soci/session.h>

#include <csignal>
#include <iostream>

#include "kernel/app/commands.hpp"
#include "kernel/app/configuration.hpp"
#include "kernel/app/settings.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/http/server.hpp"
#include "kernel/store/database.hpp"
#include "kernel/store/migrations.hpp"

namespace nucleo::app {
namespace {

Poco::Logger& setup_logging(const Configuration& config) {
  Poco::AutoPtr<Poco::PatternFormatter> format = new Poco::PatternFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p %s: %t");
  Poco::AutoPtr<Poco::FormattingChannel> channel =
      new Poco::FormattingChannel(format, new Poco::ConsoleChannel(std::cerr));
  Poco::Logger::root().setChannel(channel);
  std::string level = get_string(config, "log.level");
  try {
    Poco::Logger::root().setLevel(level);
  } catch (const Poco::Exception&) {
    throw Error(ErrorCode::validation, "configuration key log.level: unknown level '" + level + "'",
                {{"log.level", "expected fatal, critical, error, warning, notice, information, debug or trace"}});
  }
  return Poco::Logger::get("nucleo");
}

void migrate_on_start(const StoreSettings& settings, Poco::Logger& log) {
  soci::session session;
  store::open_session(session, settings.owner_url);
  SystemClock clock;
  store::migrate(session, settings.owner_url.backend, clock,
                 [&](const store::Migration& m) { log.information("applied migration " + store::migration_label(m)); });
}

http::ReadinessCheck readiness_of(store::Database& db) {
  return [&db]() -> http::Readiness {
    auto lease = db.lease();
    auto status = store::schema_status(lease.session(), db.backend());
    if (!status.is_current())
      return {false, "database schema at version " + std::to_string(status.current_version) + ", this build needs " +
                         std::to_string(status.latest_version) + ": run 'nucleo migrate'"};
    return {true, "schema version " + std::to_string(status.current_version)};
  };
}

// SIGINT/SIGTERM are blocked in every thread (the mask is inherited by the server's
// threads, created after this) and collected here with sigwait: no handler runs in
// an arbitrary thread, and the shutdown path is ordinary code.
sigset_t block_termination_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int run_serve(const ParsedArgs& args) {
  sigset_t signals = block_termination_signals();
  auto config = load_configuration(args.value("config"), process_environment());
  Poco::Logger& log = setup_logging(config);
  StoreSettings store_settings = read_store_settings(config);
  http::ServerSettings http_settings = read_http_settings(config);

  if (store_settings.migrate_on_start) migrate_on_start(store_settings, log);
  store::Database db(store_settings.url, store_settings.pool_size, store_settings.lease_timeout);

  http::Server server(http_settings, readiness_of(db));
  server.start();
  log.information("nucleo serving on http://%s:%hu (store %s, %z connections)", http_settings.host, server.port(),
                  db.url().display, store_settings.pool_size);

  int received = 0;
  sigwait(&signals, &received);
  log.information("signal %d received: draining and stopping", received);
  server.stop();
  log.information("stopped");
  return exit_ok;
}

}  // namespace

CommandSpec serve_command() {
  CommandSpec c;
  c.name = "serve";
  c.summary = "run the HTTP server";
  c.description =
      "Applies pending migrations (unless store.migrate_on_start = false), opens the\n"
      "connection pool and serves HTTP on http.host:http.port until SIGINT or SIGTERM.\n"
      "Endpoints: GET /healthz (liveness), GET /readyz (database reachable, schema current).";
  c.options = {config_option()};
  c.run = [](const ParsedArgs& args, std::ostream&, std::ostream&) { return run_serve(args); };
  return c;
}

}  // namespace nucleo::app
