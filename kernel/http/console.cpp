#include "kernel/http/console.hpp"

#include <map>
#include <string_view>

#include "kernel/domain/digest.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/http/embedded_console.hpp"

namespace nucleo::http {
namespace {

constexpr std::string_view prefix = "/app/";

// Only this origin's files; connect-src 'self' keeps the console's fetches on /v1 here.
// frame-src 'self' lets a proposal's PDF preview show; frame-ancestors 'none' keeps the
// console itself out of other sites' frames (clickjacking).
constexpr const char* content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

struct Asset {
  std::string_view content;
  std::string content_type;
  std::string etag;
};

std::string content_type_of(std::string_view name) {
  auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".json")) return "application/json";
  return "application/octet-stream";
}

// By name under console/app/, each with its content type and a strong ETag of its bytes.
const std::map<std::string, Asset, std::less<>>& assets() {
  static const auto table = [] {
    std::map<std::string, Asset, std::less<>> out;
    for (const EmbeddedFile& file : embedded_console_files())
      out.emplace(std::string(file.name),
                  Asset{file.content, content_type_of(file.name), "\"" + sha256_hex(file.content).substr(0, 32) + "\""});
    return out;
  }();
  return table;
}

ApiResponse with_security_headers(ApiResponse r) {
  r.headers["Content-Security-Policy"] = content_security_policy;
  r.headers["X-Content-Type-Options"] = "nosniff";
  r.headers["Referrer-Policy"] = "no-referrer";
  r.headers["X-Frame-Options"] = "DENY";
  // Revalidated each load (a cheap 304): a new binary's console is never mixed with an old one's.
  r.headers["Cache-Control"] = "no-cache";
  return r;
}

}  // namespace

bool is_console_path(const std::string& path) {
  return path == "/app" || path.rfind(prefix, 0) == 0;
}

ApiResponse console_response(const std::string& method, const std::string& path, const std::string& if_none_match) {
  if (method != "GET" && method != "HEAD") {
    ApiResponse r;
    r.status = 405;
    r.headers["Allow"] = "GET, HEAD";
    r.body = {{"status", 405}, {"title", "Method Not Allowed"}, {"detail", method + " is not allowed on " + path}};
    r.content_type = "application/problem+json";
    return r;
  }
  if (path == "/app") {
    ApiResponse r;
    r.status = 301;
    r.headers["Location"] = std::string(prefix);
    r.content_type = "text/plain; charset=utf-8";
    r.raw_body = "the console is at /app/\n";
    return with_security_headers(std::move(r));
  }
  std::string name = path.substr(prefix.size());
  if (name.empty()) name = "index.html";
  auto found = assets().find(name);
  if (found == assets().end()) throw Error(ErrorCode::not_found, "the console has no file " + path);
  const Asset& asset = found->second;
  ApiResponse r;
  r.headers["ETag"] = asset.etag;
  r.content_type = asset.content_type;
  if (if_none_match == asset.etag) {
    r.status = 304;
    return with_security_headers(std::move(r));
  }
  r.raw_body = std::string(asset.content);
  return with_security_headers(std::move(r));
}

}  // namespace nucleo::http
