#pragma once

#include <vector>

#include "kernel/domain/embedded_file.hpp"

namespace nucleo::http {
// Generated at build time from console/app/ (see kernel/http/CMakeLists.txt).
const std::vector<EmbeddedFile>& embedded_console_files();
}  // namespace nucleo::http
