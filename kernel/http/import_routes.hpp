#pragma once

#include "kernel/http/resources.hpp"

namespace nucleo::http {

// /v1/imports (issue #24, docs/import.md "Imports over HTTP"; admin): upload a file and its
// mapping as an import job (multipart/form-data, at most `upload_limit` bytes), list and
// read imports with their progress, cancel one, download its failed rows as CSV.
void add_import_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings,
                       std::size_t upload_limit);

}  // namespace nucleo::http
