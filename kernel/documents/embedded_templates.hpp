#pragma once

#include <vector>

#include "kernel/domain/embedded_file.hpp"

namespace nucleo::documents {

// templates/: the kernel's default proposal template and the page's styles, compiled in.
const std::vector<EmbeddedFile>& embedded_proposal_templates();

}  // namespace nucleo::documents
