// The deployment's secrets key (secrets.key_file): created once, even by nodes that
// start together, and never seen half-written.
#include "kernel/services/secret_box.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "kernel/domain/error.hpp"
#include "tests/support/process.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::services {
namespace {

TEST(SecretBox, NodesStartingTogetherOnAMissingKeyFileShareOneKey) {
  for (int round = 0; round < 20; ++round) {
    test::TempDir dir;
    std::string path = dir.path() + "/var/secrets.key";
    std::vector<std::optional<SecretBox>> boxes(8);
    std::atomic<int> created{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> nodes;
    for (std::size_t i = 0; i < boxes.size(); ++i)
      nodes.emplace_back([&, i] {
        while (!go) std::this_thread::yield();
        bool made = false;
        boxes[i] = SecretBox::load_or_create(path, &made);
        created += made;
      });
    go = true;
    for (auto& t : nodes) t.join();
    EXPECT_EQ(created, 1) << "round " << round;
    std::string sealed = boxes[0]->seal("webhook:whk_1", "whsec_x");
    for (const auto& box : boxes) EXPECT_EQ(box->open("webhook:whk_1", sealed), "whsec_x") << "round " << round;
    // Nothing is left beside the key but the key.
    int files = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path() + "/var")) ++files;
    EXPECT_EQ(files, 1);
  }
}

// Issue #35: nodes on different machines each create a key file; the database keeps
// them from sealing with different keys.
class DeploymentKey : public testing::TestWithParam<store::Backend> {
 protected:
  DeploymentKey() : h(GetParam()) {}
  test::ServiceHarness h;
};

TEST_P(DeploymentKey, ASecondNodeWithAnotherKeyIsRefusedAndItsNewKeyFileRemoved) {
  test::TempDir first_machine, second_machine;
  std::string first_path = first_machine.path() + "/secrets.key", second_path = second_machine.path() + "/secrets.key";
  bool created = false;
  SecretBox first = SecretBox::load_or_create(first_path, &created);
  ASSERT_TRUE(created);
  store::Database& worker = h.deps().worker_database;
  bind_secrets_key(worker, first, first_path, created, "node-1", h.clock.now());
  bind_secrets_key(worker, first, first_path, false, "node-1", h.clock.now());  // its restart: the same key

  SecretBox second = SecretBox::load_or_create(second_path, &created);
  ASSERT_TRUE(created);
  try {
    bind_secrets_key(worker, second, second_path, created, "node-2", h.clock.now());
    FAIL() << "a node with another key was let in";
  } catch (const Error& e) {
    std::string message = e.what();
    EXPECT_NE(message.find(second_path), std::string::npos) << message;
    EXPECT_NE(message.find("copy secrets.key_file from a node"), std::string::npos) << message;
    EXPECT_NE(message.find(first.fingerprint()), std::string::npos) << message;
  }
  EXPECT_FALSE(std::filesystem::exists(second_path));  // not left to be used by mistake

  // A key file the operator put there (not created by this start) is never removed.
  std::filesystem::copy_file(first_path, second_path);
  SecretBox copied = SecretBox::load_or_create(second_path, &created);
  EXPECT_FALSE(created);
  bind_secrets_key(worker, copied, second_path, created, "node-2", h.clock.now());
  EXPECT_EQ(h.count("SELECT count(*) FROM deployment_keys"), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, DeploymentKey, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         test::BackendName());

}  // namespace
}  // namespace nucleo::services
