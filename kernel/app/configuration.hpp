#pragma once

#include <Poco/AutoPtr.h>
#include <Poco/Util/LayeredConfiguration.h>

#include <map>
#include <string>

namespace nucleo::app {

using Configuration = Poco::AutoPtr<Poco::Util::LayeredConfiguration>;

// docs/architecture.md §10: built-in defaults (config/nucleo.properties, compiled in) <- the
// `--config FILE` properties file <- NUCLEO_* environment variables. An environment
// variable overrides a key the defaults or the file define: upper-case, dots become
// underscores (NUCLEO_STORE_POOL_SIZE -> store.pool_size).
//
// `config_file` empty means none. Throws Error(validation) when the file cannot be read.
Configuration load_configuration(const std::string& config_file, const std::map<std::string, std::string>& environment);

// The process environment as a map, for load_configuration.
std::map<std::string, std::string> process_environment();

// The environment variable that overrides `key`.
std::string environment_name(const std::string& key);

// Typed reads that fail with Error(validation) naming the key and the bad value.
std::string get_string(const Configuration& config, const std::string& key);
long get_integer(const Configuration& config, const std::string& key, long min, long max);
bool get_bool(const Configuration& config, const std::string& key);

}  // namespace nucleo::app
