#pragma once

// The synthetic registry files the packs' unit tests read (tests/fixtures/registries/,
// each written by the make_*.py beside it), as bytes.

#include <fstream>
#include <sstream>
#include <string>

namespace nucleo::verticals::testing {

inline std::string fixture(const std::string& name) {
  std::ifstream in(std::string(NUCLEO_SOURCE_DIR) + "/tests/fixtures/registries/" + name, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace nucleo::verticals::testing
