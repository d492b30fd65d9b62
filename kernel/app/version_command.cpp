#include <ostream>

#include "kernel/app/commands.hpp"
#include "kernel/domain/version.hpp"

namespace nucleo::app {

CommandSpec version_command() {
  CommandSpec c;
  c.name = "version";
  c.summary = "print the version of this build";
  c.description = "Prints 'nucleo VERSION' on one line.";
  c.run = [](const ParsedArgs&, std::ostream& out, std::ostream&) {
    out << "nucleo " << nucleo_version << "\n";
    return exit_ok;
  };
  return c;
}

std::vector<CommandSpec> all_commands() {
  return {serve_command(), migrate_command(), tenant_command(), user_command(), key_command(), pipeline_command(), automation_command(), demo_command(), import_command(), audit_command(), privacy_command(), plugins_command(), insight_command(),
          version_command()};
}

}  // namespace nucleo::app
