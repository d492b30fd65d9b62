#pragma once

#include <vector>

#include "kernel/domain/embedded_file.hpp"

namespace nucleo::app {
// config/nucleo.properties, compiled in (see kernel/app/CMakeLists.txt).
const std::vector<EmbeddedFile>& embedded_default_files();
}  // namespace nucleo::app
