#pragma once

#include <vector>

#include "kernel/app/cli.hpp"

namespace nucleo::app {

CommandSpec serve_command();
CommandSpec migrate_command();
CommandSpec version_command();
CommandSpec tenant_command();
CommandSpec user_command();
CommandSpec pipeline_command();
CommandSpec automation_command();
CommandSpec demo_command();
CommandSpec import_command();
CommandSpec key_command();
CommandSpec audit_command();
CommandSpec privacy_command();
CommandSpec plugins_command();
CommandSpec insight_command();

// Every command, in the order `nucleo --help` lists them.
std::vector<CommandSpec> all_commands();

}  // namespace nucleo::app
