// The offline verifier reads a whole directory an adversary may have written. The input
// is cut at 0x00 bytes into manifest.json, events.jsonl, log.vkey and one checkpoint note,
// written to a scratch directory, and verified: any verdict is fine, a crash is not.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "kernel/audit/bundle_verify.hpp"

namespace fs = std::filesystem;

namespace {

// The scratch directory of this fuzzing process, removed when it exits (a suite's run
// left one behind in /tmp each time).
struct ScratchDirectory {
  fs::path path = fs::temp_directory_path() / ("nucleo-fuzz-bundle-" + std::to_string(::getpid()));
  ~ScratchDirectory() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ScratchDirectory scratch;
  const fs::path& dir = scratch.path;
  std::vector<std::string> parts(4);
  std::size_t part = 0;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0 && part < 3) {
      ++part;
      continue;
    }
    parts[part].push_back(static_cast<char>(data[i]));
  }
  fs::remove_all(dir);
  fs::create_directories(dir / "checkpoints");
  const char* names[] = {"manifest.json", "events.jsonl", "log.vkey"};
  for (int i = 0; i < 3; ++i) std::ofstream(dir / names[i], std::ios::binary) << parts[static_cast<std::size_t>(i)];
  if (!parts[3].empty()) std::ofstream(dir / "checkpoints" / "1.note", std::ios::binary) << parts[3];
  nucleo::audit::verify_bundle(dir.string(), std::nullopt);
  return 0;
}
