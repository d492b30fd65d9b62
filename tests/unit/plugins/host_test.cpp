// The plugin host against real shared libraries: a good plugin loads and registers;
// each way a plugin can be wrong is refused with a clear reason while the others load.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "kernel/plugins/host.hpp"

namespace nucleo::plugins {
namespace {

namespace fs = std::filesystem;

class PluginHostTest : public testing::Test {
 protected:
  PluginHostTest() : root(fs::temp_directory_path() / ("nucleo-plugins-" + std::to_string(::getpid()))) {
    fs::remove_all(root);
    fs::create_directories(root);
  }
  ~PluginHostTest() override { fs::remove_all(root); }

  // A plugin folder: the fixture library beside a manifest (fields overridable).
  std::string folder(const std::string& name, const std::string& library, Json manifest = Json::object()) {
    fs::path dir = root / name;
    fs::create_directories(dir);
    if (!library.empty()) fs::copy_file(fs::path(PLUGIN_FIXTURE_DIR) / (library + ".so"), dir / (library + ".so"));
    Json m = {{"id", "org.nucleo.fixtures.good"}, {"version", "1.0.0"},       {"kind", "integration"},
              {"library", library + ".so"},       {"kernel", ">=0.1.0 <1.0.0"}, {"config_schema", {{"greeting", {{"type", "string"}}}}}};
    m.update(manifest);
    std::ofstream(dir / "plugin.json") << m.dump();
    return dir.string();
  }

  const PluginStatus& status_of(const PluginHost& host, const std::string& alias) {
    for (const auto& s : host.statuses())
      if (s.alias == alias) return s;
    throw std::runtime_error("no status for " + alias);
  }

  fs::path root;
};

TEST_F(PluginHostTest, AGoodPluginLoadsAndRegistersItsRoutes) {
  PluginHost host(Version{0, 1, 0});
  host.load({{"good", folder("good", "good"), {{"greeting", "olá"}}}});
  const auto& s = status_of(host, "good");
  EXPECT_TRUE(s.loaded) << s.problem;
  EXPECT_EQ(s.id, "org.nucleo.fixtures.good");
  ASSERT_EQ(host.routes().size(), 1u);
  EXPECT_EQ(host.routes()[0].path, "/ping");
}

TEST_F(PluginHostTest, EachBrokenPluginIsRefusedWithItsReasonWhileTheOthersLoad) {
  PluginHost host(Version{0, 1, 0});
  std::ofstream((root / "malformed.json")) << "{not json";
  host.load({
      {"good", folder("good", "good"), Json::object()},
      {"wrong_major", folder("wrong_major", "wrong_major", {{"id", "org.nucleo.fixtures.wrong-major"}}), Json::object()},
      {"newer_minor", folder("newer_minor", "newer_minor", {{"id", "org.nucleo.fixtures.newer-minor"}}), Json::object()},
      {"no_entry", folder("no_entry", "no_entry", {{"id", "org.nucleo.fixtures.no-entry"}}), Json::object()},
      {"init_error", folder("init_error", "init_error", {{"id", "org.nucleo.fixtures.init-error"}}), Json::object()},
      {"init_throws", folder("init_throws", "init_throws", {{"id", "org.nucleo.fixtures.thrower"}}), Json::object()},
      {"duplicate", folder("duplicate", "good"), Json::object()},
      {"missing", (root / "nowhere").string(), Json::object()},
      {"malformed", (root / "malformed.json").string(), Json::object()},
      {"mismatch", folder("mismatch", "good", {{"id", "org.nucleo.fixtures.other"}}), Json::object()},
      {"unmet", folder("unmet", "good", {{"id", "org.nucleo.fixtures.needy"}, {"requires", {{{"id", "org.nucleo.absent"}, {"version", ">=1.0.0"}}}}}),
       Json::object()},
      {"config", folder("config", "good", {{"id", "org.nucleo.fixtures.configured"}}), {{"greting", "typo"}}},
  });
  auto problem = [&](const std::string& alias) { return status_of(host, alias).problem; };
  EXPECT_TRUE(status_of(host, "good").loaded) << problem("good");
  EXPECT_NE(problem("wrong_major").find("built for plugin ABI 2."), std::string::npos) << problem("wrong_major");
  EXPECT_NE(problem("newer_minor").find("newer than this kernel's"), std::string::npos) << problem("newer_minor");
  EXPECT_NE(problem("no_entry").find("exports no nucleo_plugin_entry"), std::string::npos) << problem("no_entry");
  EXPECT_NE(problem("init_error").find("init failed (INVALID_ARGUMENT): the API token is missing"), std::string::npos)
      << problem("init_error");
  EXPECT_NE(problem("init_throws").find("init failed (INTERNAL): cannot reach the mailbox"), std::string::npos)
      << problem("init_throws");
  EXPECT_NE(problem("duplicate").find("duplicate id org.nucleo.fixtures.good"), std::string::npos) << problem("duplicate");
  EXPECT_NE(problem("missing").find("cannot read"), std::string::npos) << problem("missing");
  EXPECT_NE(problem("malformed").find("not a JSON object"), std::string::npos) << problem("malformed");
  EXPECT_NE(problem("mismatch").find("the library says it is org.nucleo.fixtures.good 1.0.0, plugin.json says "
                                     "org.nucleo.fixtures.other"),
            std::string::npos)
      << problem("mismatch");
  EXPECT_NE(problem("unmet").find("requires org.nucleo.absent >=1.0.0, which is not loaded"), std::string::npos)
      << problem("unmet");
  EXPECT_NE(problem("config").find("greting is not a setting"), std::string::npos) << problem("config");
  // Only the good plugin's route exists: a failed init's registrations are dropped.
  ASSERT_EQ(host.routes().size(), 1u);
  EXPECT_EQ(host.routes()[0].plugin_id, "org.nucleo.fixtures.good");
}

TEST_F(PluginHostTest, APluginForAnotherKernelIsNotLoaded) {
  PluginHost host(Version{2, 0, 0});
  host.load({{"good", folder("good", "good"), Json::object()}});
  EXPECT_FALSE(status_of(host, "good").loaded);
  EXPECT_NE(status_of(host, "good").problem.find("needs kernel >=0.1.0 <1.0.0, this is 2.0.0"), std::string::npos);
}

}  // namespace
}  // namespace nucleo::plugins
