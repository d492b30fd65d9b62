// The deployment's secrets key (secrets.key_file): created once, even by nodes that
// start together, and never seen half-written.
#include "kernel/services/secret_box.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "tests/support/process.hpp"

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

}  // namespace
}  // namespace nucleo::services
