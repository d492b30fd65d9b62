#include "tests/support/plugin_folders.hpp"

#include <filesystem>
#include <fstream>

#include "nucleo/plugin_abi.h"

namespace nucleo::test {

namespace fs = std::filesystem;
using nlohmann::json;

std::string plugin_folder(const std::string& root, const std::string& name, const std::string& library,
                          const json& overrides) {
  fs::path dir = fs::path(root) / name;
  fs::create_directories(dir);
  if (!library.empty())
    fs::copy_file(fs::path(PLUGIN_FIXTURE_DIR) / (library + ".so"), dir / (library + ".so"),
                  fs::copy_options::overwrite_existing);
  json m = {{"id", "org.nucleo.fixtures.good"},
            {"version", "1.0.0"},
            {"kind", "integration"},
            {"library", library + ".so"},
            {"kernel", ">=0.1.0 <1.0.0"},
            {"config_schema", {{"greeting", {{"type", "string"}}}}}};
  m.update(overrides);
  std::ofstream(dir / "plugin.json") << m.dump();
  return dir.string();
}

std::string store_plugin_folder(const std::string& root) {
  return plugin_folder(root, "store", "store",
                       {{"id", "org.nucleo.fixtures.store"},
                        {"kind", "vertical"},
                        {"config_schema", nlohmann::json::object()},
                        {"collections", {{"visits", {{"indexes", {{"day", "string"}, {"minutes", "integer"}}}}}}}});
}

std::string pack_plugin_folder(const std::string& root) {
  std::ifstream in(std::string(PLUGIN_FIXTURE_DIR) + "/pack.json");
  json manifest = json::parse(in);
  return plugin_folder(root, "pack", "pack", manifest);
}

std::vector<BrokenPlugin> broken_plugins(const std::string& root) {
  std::ofstream(fs::path(root) / "malformed.json") << "{not json";
  auto id = [](const std::string& value) { return json{{"id", value}}; };
  return {
      {"wrong_major", plugin_folder(root, "wrong_major", "wrong_major", id("org.nucleo.fixtures.wrong-major")), {},
       "built for plugin ABI 2."},
      {"newer_minor", plugin_folder(root, "newer_minor", "newer_minor", id("org.nucleo.fixtures.newer-minor")), {},
       "newer than this kernel's"},
      {"lying_tag", plugin_folder(root, "lying_tag", "lying_tag", id("org.nucleo.fixtures.lying-tag")), {},
       "its ABI tag says " + std::to_string(NUCLEO_ABI_MAJOR) + ".0 but its descriptor says"},
      {"no_entry", plugin_folder(root, "no_entry", "no_entry", id("org.nucleo.fixtures.no-entry")), {},
       "exports no nucleo_plugin_entry"},
      {"init_error", plugin_folder(root, "init_error", "init_error", id("org.nucleo.fixtures.init-error")), {},
       "init failed (INVALID_ARGUMENT): the API token is missing"},
      {"init_throws", plugin_folder(root, "init_throws", "init_throws", id("org.nucleo.fixtures.thrower")), {},
       "init failed (INTERNAL): cannot reach the mailbox"},
      {"twin", plugin_folder(root, "twin", "good"), {}, "duplicate id org.nucleo.fixtures.good: plugins.good loads it"},
      {"missing", (fs::path(root) / "nowhere").string(), {}, "cannot read"},
      {"malformed", (fs::path(root) / "malformed.json").string(), {}, "not a JSON object"},
      {"mismatch", plugin_folder(root, "mismatch", "good", id("org.nucleo.fixtures.other")), {},
       "the library says it is org.nucleo.fixtures.good 1.0.0, plugin.json says org.nucleo.fixtures.other"},
      {"unmet",
       plugin_folder(root, "unmet", "good",
                     {{"id", "org.nucleo.fixtures.needy"},
                      {"requires", {{{"id", "org.nucleo.absent"}, {"version", ">=1.0.0"}}}}}),
       {},
       "requires org.nucleo.absent >=1.0.0, which is not loaded"},
      {"config", plugin_folder(root, "config", "good", id("org.nucleo.fixtures.configured")), {{"greting", "typo"}},
       "greting is not a setting"},
      // A second alias of an id whose first alias failed: its own problem, not "duplicate".
      {"config_again", plugin_folder(root, "config_again", "good", id("org.nucleo.fixtures.configured")),
       {{"colour", "blue"}}, "colour is not a setting"},
  };
}

}  // namespace nucleo::test
