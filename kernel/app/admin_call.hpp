#pragma once

// What the administration commands share (admin_commands.cpp, import_command.cpp): a
// kernel opened from the configuration, and a call context acting as {system, cli}.

#include <ostream>
#include <string>
#include <vector>

#include "kernel/app/cli.hpp"
#include "kernel/app/configuration.hpp"
#include "kernel/app/kernel_runtime.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/services/call_context.hpp"
#include "kernel/services/tenant_service.hpp"

namespace nucleo::app {

inline const OptionSpec json_option{"json", "", "print JSON (one object per line) instead of text"};
inline const OptionSpec reason_option{"reason", "TEXT", "why: recorded in the audit event"};
inline const OptionSpec tenant_option{"tenant", "ID", "the tenant to act in (ten_…)"};

void print_record(std::ostream& out, const Json& record, const std::vector<std::string>& fields, bool json);

// A JSON file's document; Error(validation) naming the file when it cannot be read or parsed.
Json read_json_file(const std::string& path);

struct AdminCall {
  Configuration config;
  KernelRuntime runtime;
  SystemClock clock;
  services::CallContext ctx;

  explicit AdminCall(const ParsedArgs& args)
      : config(load_configuration(args.value("config"), process_environment())), runtime(config, 2) {
    ctx.actor = {"system", "cli", ""};
    ctx.request_id = generate_id("req", clock.now());
    ctx.reason = args.value("reason");
    ctx.clock = &clock;
  }

  // A write's record is followed by the database it went to (text output only), so a
  // command run against an unexpected store is seen at once.
  void print_written(std::ostream& out, const Json& record, const std::vector<std::string>& fields, bool json) {
    print_record(out, record, fields, json);
    if (!json) out << "store=" << runtime.database().url().display << "\n";
  }

  // Commands that act inside a tenant name it with --tenant; it must exist.
  void enter_tenant(const ParsedArgs& args) {
    std::string tenant = require(args, "tenant");
    if (!services::TenantService(runtime.dependencies()).exists(tenant))
      throw Error(ErrorCode::not_found, "no tenant " + tenant + " (see 'nucleo tenant list')");
    ctx.tenant_id = tenant;
  }

  static std::string require(const ParsedArgs& args, const std::string& option) {
    if (!args.has(option) || args.value(option).empty())
      throw Error(ErrorCode::validation, "missing --" + option, {{option, "is required"}});
    return args.value(option);
  }
};

}  // namespace nucleo::app
