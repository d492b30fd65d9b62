#pragma once

#include <vector>

#include "kernel/domain/embedded_file.hpp"

namespace nucleo::app {
// config/examples/pipelines/*.json, compiled in (see kernel/app/CMakeLists.txt): the
// templates `nucleo demo` applies wherever the binary runs.
const std::vector<EmbeddedFile>& embedded_pipeline_templates();
}  // namespace nucleo::app
