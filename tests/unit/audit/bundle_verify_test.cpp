#include "kernel/audit/bundle_verify.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "kernel/audit/canonical_json.hpp"
#include "kernel/audit/checkpoint.hpp"
#include "kernel/audit/merkle.hpp"

namespace nucleo::audit {
namespace {
namespace fs = std::filesystem;

const std::string origin = "crm.example.com/nucleo/ten_a";

// A bundle of the given leaves with one signed checkpoint over all of them.
class BundleOnDisk : public ::testing::Test {
 protected:
  void write(const std::vector<std::string>& leaves, bool final_newline = true) {
    fs::create_directories(dir_ / "checkpoints");
    MerkleFrontier tree;
    std::ofstream events(dir_ / "events.jsonl", std::ios::binary);
    for (std::size_t i = 0; i < leaves.size(); ++i) {
      events << leaves[i];
      if (i + 1 < leaves.size() || final_newline) events << '\n';
      tree.append(leaf_hash(leaves[i]));
    }
    auto key = SigningKey::generate();
    std::ofstream(dir_ / "checkpoints" / (std::to_string(tree.size()) + ".note"))
        << sign_checkpoint({origin, tree.size(), tree.root()}, key);
    std::ofstream(dir_ / "log.vkey") << vkey(origin, key.public_key()) << "\n";
    std::ofstream(dir_ / "manifest.json") << Json{{"format", "nucleo-audit-bundle"}, {"version", 1},
                                                  {"origin", origin}, {"tenant_id", "ten_a"}, {"first_seq", 0},
                                                  {"size", leaves.size()}, {"prefix", Json::array()}}
                                                 .dump();
  }
  static std::string leaf(std::uint64_t seq, const std::string& note) {
    return canonical_json(Json{{"seq", seq}, {"note", note}});
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_ = fs::temp_directory_path() / ("nucleo-bundle-verify-" + std::to_string(::getpid()));
};

TEST_F(BundleOnDisk, LinesLongerThanTheReadBufferVerify) {
  write({leaf(0, "short"), leaf(1, std::string(3 << 20, 'x')), leaf(2, "after")});
  auto report = verify_bundle(dir_.string(), std::nullopt);
  EXPECT_EQ(report.verdict, Verdict::pass) << report.message;
  EXPECT_EQ(report.events, 3u);
  EXPECT_EQ(report.checkpoints_checked, 1u);
}

TEST_F(BundleOnDisk, ALastLineWithoutItsNewlineIsNamedAsTruncated) {
  write({leaf(0, "a"), leaf(1, "b")}, false);
  auto report = verify_bundle(dir_.string(), std::nullopt);
  EXPECT_EQ(report.verdict, Verdict::fail);
  EXPECT_NE(report.message.find("seq 1: the last line has no newline"), std::string::npos) << report.message;
}

// --jobs N (issue #29): the lines are read in blocks of 4 MiB and checked on N threads,
// and the verdict and its message are the single thread's, whichever block the failure
// is in. Leaves of about 1 KB: 4,000 or so to a block.
TEST_F(BundleOnDisk, AnyNumberOfJobsReachesTheSameVerdict) {
  auto leaves = [](std::size_t n) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(leaf(i, "event " + std::to_string(i) + std::string(1000, '.')));
    return out;
  };
  auto same_with_jobs = [&](Verdict expected, const std::string& says) {
    auto one = verify_bundle(dir_.string(), std::nullopt, 1);
    EXPECT_EQ(one.verdict, expected) << one.message;
    EXPECT_NE(one.message.find(says), std::string::npos) << one.message;
    for (unsigned jobs : {2u, 3u, 8u}) {
      auto many = verify_bundle(dir_.string(), std::nullopt, jobs);
      EXPECT_EQ(many.verdict, one.verdict) << jobs << " jobs";
      EXPECT_EQ(many.message, one.message) << jobs << " jobs";
      EXPECT_EQ(many.events, one.events) << jobs << " jobs";
    }
    fs::remove_all(dir_);
  };
  write(leaves(10'000));
  same_with_jobs(Verdict::pass, "PASS: 10000 events");

  auto altered = leaves(10'000);
  altered[5'000] = "{\"note\": \"x\", \"seq\": 5000}";  // whitespace: not canonical, in the second block
  write(altered);
  same_with_jobs(Verdict::fail, "seq 5000: not canonical JSON");

  auto gap = leaves(9'000);
  gap.erase(gap.begin() + 8'200);  // in the third block
  write(gap);
  same_with_jobs(Verdict::fail, "seq 8200: found seq 8201");

  write(leaves(8'193), false);  // the last line without its newline
  same_with_jobs(Verdict::fail, "seq 8192: the last line has no newline");

  // A line longer than a block (5 MiB) between ordinary ones.
  auto long_line = leaves(3);
  long_line[1] = leaf(1, std::string(5 << 20, 'x'));
  write(long_line);
  same_with_jobs(Verdict::pass, "PASS: 3 events");
}

}  // namespace
}  // namespace nucleo::audit
