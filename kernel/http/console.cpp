#include "kernel/http/console.hpp"

#include <map>
#include <string_view>

#include "kernel/domain/digest.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/http/embedded_console.hpp"

namespace nucleo::http {
namespace {

constexpr std::string_view prefix = "/app/";
constexpr std::string_view versioned = "v/";

// Only this origin's files; connect-src 'self' keeps the console's fetches on /v1 here.
// frame-src 'self' lets a proposal's PDF preview show; frame-ancestors 'none' keeps the
// console itself out of other sites' frames (clickjacking).
constexpr const char* content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

struct Asset {
  std::string content;
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

std::string quoted_digest(std::string_view text) {
  return "\"" + sha256_hex(text).substr(0, 32) + "\"";
}

void replace_all(std::string& text, std::string_view what, const std::string& with) {
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size()))
    text.replace(at, what.size(), with);
}

struct Console {
  std::map<std::string, Asset, std::less<>> files;  // by name under console/app/
  std::string version;  // a digest of every file: the cache key of the versioned URLs
  Asset index;          // index.html with its asset URLs versioned and the modules preloaded
};

// The files, and index.html pointing at /app/v/<version>/…: those URLs never change
// content, so the browser keeps them for a year and a page load asks the server only for
// index.html (ADR 0047). `%ASSETS%` in index.html is that base; `<!--%PRELOAD%-->`
// becomes a modulepreload link per module, so the browser fetches them all at once
// instead of discovering them import by import.
const Console& console_files() {
  static const Console built = [] {
    Console c;
    std::string all;
    for (const EmbeddedFile& file : embedded_console_files()) {
      std::string content(file.content);
      all += std::string(file.name) + '\0' + content + '\0';
      c.files.emplace(std::string(file.name), Asset{content, content_type_of(file.name), quoted_digest(content)});
    }
    c.version = sha256_hex(all).substr(0, 16);
    std::string base = std::string(versioned) + c.version;
    std::string preload;
    for (const auto& [name, asset] : c.files)
      if (asset.content_type.rfind("text/javascript", 0) == 0)
        preload += "<link rel=\"modulepreload\" href=\"" + base + "/" + name + "\">\n  ";
    auto found = c.files.find("index.html");
    std::string index = found == c.files.end() ? "" : found->second.content;
    replace_all(index, "%ASSETS%", base);
    replace_all(index, "<!--%PRELOAD%-->", preload);
    c.index = Asset{index, "text/html; charset=utf-8", quoted_digest(index)};
    return c;
  }();
  return built;
}

ApiResponse with_security_headers(ApiResponse r, bool immutable) {
  r.headers["Content-Security-Policy"] = content_security_policy;
  r.headers["X-Content-Type-Options"] = "nosniff";
  r.headers["Referrer-Policy"] = "no-referrer";
  r.headers["X-Frame-Options"] = "DENY";
  // A versioned file never changes; anything else is revalidated on each load (a cheap
  // 304), so a new binary's console is never mixed with an old one's.
  r.headers["Cache-Control"] = immutable ? "public, max-age=31536000, immutable" : "no-cache";
  return r;
}

ApiResponse asset_response(const Asset& asset, const std::string& if_none_match, bool immutable) {
  ApiResponse r;
  r.headers["ETag"] = asset.etag;
  r.content_type = asset.content_type;
  if (if_none_match == asset.etag)
    r.status = 304;
  else
    r.raw_body = asset.content;
  return with_security_headers(std::move(r), immutable);
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
    return with_security_headers(std::move(r), false);
  }
  const Console& console = console_files();
  std::string name = path.substr(prefix.size());
  if (name.empty() || name == "index.html") return asset_response(console.index, if_none_match, false);
  bool immutable = false;
  if (name.rfind(versioned, 0) == 0) {
    // Another version's URL (a tab opened before an upgrade) is not served as this one's.
    std::string current = std::string(versioned) + console.version + "/";
    if (name.rfind(current, 0) != 0)
      throw Error(ErrorCode::not_found, "the console has been upgraded since this page loaded: reload it");
    name = name.substr(current.size());
    immutable = true;
  }
  auto found = console.files.find(name);
  if (found == console.files.end() || name == "index.html")
    throw Error(ErrorCode::not_found, "the console has no file " + path);
  return asset_response(found->second, if_none_match, immutable);
}

}  // namespace nucleo::http
