#pragma once

#include <vector>

#include "kernel/domain/embedded_file.hpp"

namespace nucleo::store {
// Generated at build time from kernel/migrations/ (see kernel/store/CMakeLists.txt).
const std::vector<EmbeddedFile>& embedded_migration_files();
}  // namespace nucleo::store
