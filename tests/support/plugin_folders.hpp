#pragma once

// Plugin folders for the host tests: a fixture library (tests/plugin_abi, built into
// PLUGIN_FIXTURE_DIR) beside a plugin.json, and the catalogue of ways a plugin can be
// wrong — each with the reason the host must give. Shared by the unit test of the host
// and the end-to-end test of a running server.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nucleo::test {

// `root`/`name`/ with `library`.so copied from PLUGIN_FIXTURE_DIR and a manifest of
// the good fixture, `overrides` merged in. An empty library leaves the folder without one.
std::string plugin_folder(const std::string& root, const std::string& name, const std::string& library,
                          const nlohmann::json& overrides = nlohmann::json::object());

// The record-store fixture (tests/plugin_abi/store.cpp) as `root`/store/, with its
// collection "visits" (indexes day: string, minutes: integer) declared in plugin.json.
std::string store_plugin_folder(const std::string& root);
// The pack fixture (tests/plugin_abi/pack.cpp) with its own plugin.json.
std::string pack_plugin_folder(const std::string& root);

struct BrokenPlugin {
  std::string alias;
  std::string file;
  nlohmann::json config;  // plugins.<alias>.config.*
  std::string reason;     // what the host's problem text must contain
};

// Every failure of issue #8's list: wrong ABI major, newer minor, no entry symbol, init
// returns an error, init throws, duplicate id, missing and malformed manifest, id
// mismatch, unmet dependency, unknown config key. Folders are created under `root`;
// the good fixture must be configured beside them as alias "good", which sorts before
// "twin", the duplicate of its id (aliases load in the configuration's order).
std::vector<BrokenPlugin> broken_plugins(const std::string& root);

}  // namespace nucleo::test
