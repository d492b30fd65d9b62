#pragma once

#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nucleo::app {

// Exit codes of every `nucleo` command.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;    // the command ran and failed (database down, …)
inline constexpr int exit_bad_usage = 2;  // unknown command/option, invalid argument or configuration

struct OptionSpec {
  std::string name;        // long name without dashes: "config"
  std::string value_name;  // "FILE"; empty for a flag
  std::string help;
};

struct ParsedArgs {
  std::map<std::string, std::string> options;  // flags map to ""
  std::vector<std::string> positionals;

  bool has(const std::string& name) const { return options.count(name) != 0; }
  std::string value(const std::string& name, const std::string& fallback = "") const {
    auto it = options.find(name);
    return it == options.end() ? fallback : it->second;
  }
};

struct CommandSpec {
  std::string name;
  std::string summary;      // one line, shown by `nucleo --help`
  std::string positionals;  // usage text after the options, e.g. "DIR"; empty for none
  std::string description;  // paragraph shown by `nucleo NAME --help`
  std::vector<OptionSpec> options;
  std::function<int(const ParsedArgs&, std::ostream& out, std::ostream& err)> run;
};

// The `--config FILE` option that every command reading configuration takes.
OptionSpec config_option();

// Parses `--name value`, `--name=value` and flags against the spec. Throws
// Error(validation) naming the unknown option or the missing value.
ParsedArgs parse_arguments(const CommandSpec& command, const std::vector<std::string>& args);

void print_command_help(const CommandSpec& command, std::ostream& out);

// Dispatches argv to a command; prints one-line reasons on `err`; returns the exit code.
int run_cli(const std::vector<CommandSpec>& commands, const std::vector<std::string>& argv, std::ostream& out,
            std::ostream& err);

}  // namespace nucleo::app
