#include "kernel/app/configuration.hpp"

#include <Poco/Exception.h>
#include <Poco/NumberParser.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <sstream>

#include "kernel/app/embedded_defaults.hpp"
#include "kernel/domain/error.hpp"

extern char** environ;

namespace nucleo::app {
namespace {

using Poco::Util::AbstractConfiguration;

// Priorities in a LayeredConfiguration: lower numbers win.
constexpr int environment_priority = 0;
constexpr int file_priority = 10;
constexpr int defaults_priority = 20;

void collect_keys(const AbstractConfiguration& config, const std::string& prefix, std::set<std::string>& out) {
  AbstractConfiguration::Keys children;
  config.keys(prefix, children);
  if (children.empty() && !prefix.empty()) out.insert(prefix);
  for (const auto& child : children) collect_keys(config, prefix.empty() ? child : prefix + "." + child, out);
}

Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> read_defaults() {
  std::istringstream text{std::string(embedded_default_files().front().content)};
  return new Poco::Util::PropertyFileConfiguration(text);
}

Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> read_file(const std::string& path) {
  if (!std::filesystem::is_regular_file(path))
    throw Error(ErrorCode::validation, "cannot read configuration file '" + path + "': no such file",
                {{"config", "no such file"}});
  try {
    return new Poco::Util::PropertyFileConfiguration(path);
  } catch (const Poco::Exception& e) {
    throw Error(ErrorCode::validation, "cannot read configuration file '" + path + "': " + e.displayText(),
                {{"config", e.displayText()}});
  }
}

}  // namespace

std::string environment_name(const std::string& key) {
  std::string name = "NUCLEO_";
  for (char c : key) name.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return name;
}

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    auto eq = text.find('=');
    if (eq != std::string_view::npos) env.emplace(text.substr(0, eq), text.substr(eq + 1));
  }
  return env;
}

Configuration load_configuration(const std::string& config_file,
                                 const std::map<std::string, std::string>& environment) {
  Configuration config = new Poco::Util::LayeredConfiguration;
  config->add(read_defaults().cast<AbstractConfiguration>(), defaults_priority);
  if (!config_file.empty()) config->add(read_file(config_file).cast<AbstractConfiguration>(), file_priority);

  std::set<std::string> keys;
  collect_keys(*config, "", keys);
  Poco::AutoPtr<Poco::Util::MapConfiguration> overrides = new Poco::Util::MapConfiguration;
  for (const auto& key : keys) {
    auto it = environment.find(environment_name(key));
    if (it != environment.end()) overrides->setString(key, it->second);
  }
  config->add(overrides.cast<AbstractConfiguration>(), environment_priority);
  return config;
}

std::string get_string(const Configuration& config, const std::string& key) {
  return config->getString(key, "");
}

long get_integer(const Configuration& config, const std::string& key, long min, long max) {
  std::string text = get_string(config, key);
  Poco::Int64 value = 0;
  if (!Poco::NumberParser::tryParse64(text, value) || value < min || value > max)
    throw Error(ErrorCode::validation,
                "configuration key " + key + " must be an integer from " + std::to_string(min) + " to " +
                    std::to_string(max) + ", got '" + text + "'",
                {{key, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max)}});
  return static_cast<long>(value);
}

bool get_bool(const Configuration& config, const std::string& key) {
  std::string text = get_string(config, key);
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  if (text == "true" || text == "yes" || text == "on" || text == "1") return true;
  if (text == "false" || text == "no" || text == "off" || text == "0") return false;
  throw Error(ErrorCode::validation, "configuration key " + key + " must be true or false, got '" + text + "'",
              {{key, "expected true or false"}});
}

}  // namespace nucleo::app
