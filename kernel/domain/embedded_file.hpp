#pragma once

#include <string_view>
#include <vector>

namespace nucleo {

// A text file compiled into the binary by the CMake helper nucleo_embed_files().
struct EmbeddedFile {
  std::string_view name;  // path relative to the embedding base, e.g. "sqlite/0001_foundation.sql"
  std::string_view content;
};

}  // namespace nucleo
