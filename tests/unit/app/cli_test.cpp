#include "kernel/app/cli.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "kernel/app/commands.hpp"
#include "kernel/domain/error.hpp"

namespace nucleo::app {
namespace {

CommandSpec sample_command() {
  CommandSpec c;
  c.name = "sample";
  c.options = {config_option(), {"status", "", "a flag"}};
  c.run = [](const ParsedArgs& args, std::ostream& out, std::ostream&) {
    out << "config=" << args.value("config") << " status=" << args.has("status") << " n=" << args.positionals.size();
    return exit_ok;
  };
  return c;
}

int run(const std::vector<std::string>& argv, std::string& out, std::string& err) {
  std::ostringstream o, e;
  int code = run_cli({sample_command(), version_command()}, argv, o, e);
  out = o.str();
  err = e.str();
  return code;
}

TEST(Cli, AcceptsSpaceAndEqualsForms) {
  auto a = parse_arguments(sample_command(), {"--config", "a.properties", "--status", "x"});
  EXPECT_EQ(a.value("config"), "a.properties");
  EXPECT_TRUE(a.has("status"));
  EXPECT_EQ(a.positionals, std::vector<std::string>{"x"});
  EXPECT_EQ(parse_arguments(sample_command(), {"--config=b.properties"}).value("config"), "b.properties");
}

TEST(Cli, UnknownOptionMissingValueAndValuedFlagAreUsageErrors) {
  EXPECT_THROW(parse_arguments(sample_command(), {"--nope"}), Error);
  EXPECT_THROW(parse_arguments(sample_command(), {"--config"}), Error);
  EXPECT_THROW(parse_arguments(sample_command(), {"--status=yes"}), Error);
}

TEST(Cli, ExitCodesFollowTheConvention) {
  std::string out, err;
  EXPECT_EQ(run({"nucleo"}, out, err), exit_bad_usage);
  EXPECT_EQ(run({"nucleo", "bogus"}, out, err), exit_bad_usage);
  EXPECT_NE(err.find("unknown command 'bogus'"), std::string::npos);
  EXPECT_EQ(run({"nucleo", "sample", "--nope"}, out, err), exit_bad_usage);
  EXPECT_NE(err.find("--nope"), std::string::npos);
  EXPECT_EQ(run({"nucleo", "sample", "--config", "f", "--status"}, out, err), exit_ok);
  EXPECT_EQ(out, "config=f status=1 n=0");
}

TEST(Cli, HelpIsOfferedEverywhere) {
  std::string out, err;
  EXPECT_EQ(run({"nucleo", "--help"}, out, err), exit_ok);
  EXPECT_NE(out.find("sample"), std::string::npos);
  EXPECT_EQ(run({"nucleo", "sample", "--help"}, out, err), exit_ok);
  EXPECT_NE(out.find("--config FILE"), std::string::npos);
  EXPECT_EQ(run({"nucleo", "help", "sample"}, out, err), exit_ok);
  EXPECT_NE(out.find("Usage: nucleo sample"), std::string::npos);
}

TEST(Cli, ErrorsFromCommandsBecomeOneLineAndAnExitCode) {
  CommandSpec failing = sample_command();
  failing.run = [](const ParsedArgs&, std::ostream&, std::ostream&) -> int {
    throw Error(ErrorCode::unavailable, "database is down");
  };
  std::ostringstream o, e;
  EXPECT_EQ(run_cli({failing}, {"nucleo", "sample"}, o, e), exit_failure);
  EXPECT_EQ(e.str(), "nucleo sample: database is down\n");
}

}  // namespace
}  // namespace nucleo::app
