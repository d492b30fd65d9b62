#include "kernel/app/cli.hpp"

#include <ostream>

#include "kernel/domain/error.hpp"

namespace nucleo::app {
namespace {

const OptionSpec help_option{"help", "", "show this help and exit"};

const OptionSpec* find_option(const CommandSpec& command, const std::string& name) {
  if (name == help_option.name) return &help_option;
  for (const auto& o : command.options)
    if (o.name == name) return &o;
  return nullptr;
}

void print_overview(const std::vector<CommandSpec>& commands, std::ostream& out) {
  out << "Nucleo — the CRM kernel.\n\n"
         "Usage: nucleo COMMAND [OPTIONS]\n\n"
         "Commands:\n";
  for (const auto& c : commands) {
    out << "  " << c.name << std::string(c.name.size() < 12 ? 12 - c.name.size() : 1, ' ') << c.summary << "\n";
  }
  out << "\nRun 'nucleo COMMAND --help' for a command's options.\n"
         "Exit codes: 0 success, 1 failure, 2 bad usage or configuration.\n";
}

int exit_code_for(const Error& e) {
  return e.code() == ErrorCode::validation ? exit_bad_usage : exit_failure;
}

}  // namespace

OptionSpec config_option() {
  return {"config", "FILE", "read configuration from FILE (a .properties file) over the built-in defaults"};
}

ParsedArgs parse_arguments(const CommandSpec& command, const std::vector<std::string>& args) {
  ParsedArgs parsed;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h") {
      parsed.options["help"] = "";
      continue;
    }
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      parsed.positionals.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    const OptionSpec* spec = find_option(command, name);
    if (spec == nullptr)
      throw Error(ErrorCode::validation, "unknown option --" + name + " for 'nucleo " + command.name + "'",
                  {{name, "unknown option"}});
    if (spec->value_name.empty()) {
      if (inline_value)
        throw Error(ErrorCode::validation, "option --" + name + " takes no value", {{name, "takes no value"}});
      parsed.options[name] = "";
    } else if (inline_value) {
      parsed.options[name] = *inline_value;
    } else if (i + 1 < args.size()) {
      parsed.options[name] = args[++i];
    } else {
      throw Error(ErrorCode::validation, "option --" + name + " needs a value " + spec->value_name,
                  {{name, "missing value"}});
    }
  }
  return parsed;
}

void print_command_help(const CommandSpec& command, std::ostream& out) {
  out << "Usage: nucleo " << command.name << " [OPTIONS]" << (command.positionals.empty() ? "" : " ")
      << command.positionals << "\n\n"
      << command.description << "\n\nOptions:\n";
  std::vector<OptionSpec> all = command.options;
  all.push_back(help_option);
  for (const auto& o : all) {
    std::string left = "--" + o.name + (o.value_name.empty() ? "" : " " + o.value_name);
    out << "  " << left << std::string(left.size() < 22 ? 22 - left.size() : 1, ' ') << o.help << "\n";
  }
}

int run_cli(const std::vector<CommandSpec>& commands, const std::vector<std::string>& argv, std::ostream& out,
            std::ostream& err) {
  if (argv.size() < 2 || argv[1] == "--help" || argv[1] == "-h" || argv[1] == "help") {
    if (argv.size() >= 3 && argv[1] == "help") {
      for (const auto& c : commands)
        if (c.name == argv[2]) return print_command_help(c, out), exit_ok;
    }
    print_overview(commands, argv.size() < 2 ? err : out);
    return argv.size() < 2 ? exit_bad_usage : exit_ok;
  }
  const CommandSpec* command = nullptr;
  for (const auto& c : commands)
    if (c.name == argv[1] || (argv[1] == "--version" && c.name == "version")) command = &c;
  if (command == nullptr) {
    err << "nucleo: unknown command '" << argv[1] << "' (run 'nucleo --help' for the list)\n";
    return exit_bad_usage;
  }
  try {
    ParsedArgs args = parse_arguments(*command, {argv.begin() + 2, argv.end()});
    if (args.has("help")) return print_command_help(*command, out), exit_ok;
    return command->run(args, out, err);
  } catch (const Error& e) {
    err << "nucleo " << command->name << ": " << e.what() << "\n";
    return exit_code_for(e);
  } catch (const std::exception& e) {
    err << "nucleo " << command->name << ": internal error: " << e.what() << "\n";
    return exit_failure;
  }
}

}  // namespace nucleo::app
