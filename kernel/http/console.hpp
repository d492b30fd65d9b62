#pragma once

// The web console's files (docs/console.md, ADR 0047), compiled into the binary from
// console/app/ and served at /app/ with a Content-Security-Policy that allows only this
// origin's scripts and styles — no inline code, nothing from elsewhere.
#include <string>

#include "kernel/http/exchange.hpp"

namespace nucleo::http {

// Whether `path` is the console's: "/app" or under "/app/".
bool is_console_path(const std::string& path);

// The answer to GET or HEAD `path`: the file (index.html for "/app/"), 304 when
// `if_none_match` names its ETag, a redirect from "/app" to "/app/", 404 for a name
// the console does not have. Other methods: 405.
ApiResponse console_response(const std::string& method, const std::string& path, const std::string& if_none_match);

}  // namespace nucleo::http
