#include "kernel/store/database_url.hpp"

#include <libpq-fe.h>

#include <map>
#include <memory>

#include "kernel/domain/error.hpp"

namespace nucleo::store {
namespace {

constexpr std::string_view default_connect_timeout_s = "5";

// libpq keyword values are quoted with single quotes, backslash escaping ' and \.
std::string quote_libpq_value(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

DatabaseUrl parse_postgresql(const std::string& conninfo) {
  char* message = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(PQconninfoParse(conninfo.c_str(), &message),
                                                                       &PQconninfoFree);
  if (!options) {
    std::string reason = message ? message : "unparseable connection string";
    PQfreemem(message);
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
    throw Error(ErrorCode::validation, "invalid PostgreSQL URL: " + reason, {{"url", reason}});
  }

  DatabaseUrl url;
  url.backend = Backend::postgresql;
  bool has_timeout = false;
  std::map<std::string, std::string> shown;
  for (auto* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    std::string keyword = o->keyword;
    if (keyword == "connect_timeout") has_timeout = true;
    url.connect_string += keyword + "=" + quote_libpq_value(o->val) + " ";
    shown[keyword] = o->val;
  }
  if (!has_timeout) url.connect_string += "connect_timeout=" + std::string(default_connect_timeout_s);
  // postgresql://user@host:port/dbname, from what was given; never the password.
  url.display = "postgresql://" + (shown.count("user") ? shown["user"] + "@" : std::string()) +
                (shown.count("host")       ? shown["host"]
                 : shown.count("hostaddr") ? shown["hostaddr"]
                                           : "") +
                (shown.count("port") ? ":" + shown["port"] : std::string()) + "/" + shown["dbname"];
  return url;
}

DatabaseUrl parse_sqlite(std::string_view path) {
  if (path.empty())
    throw Error(ErrorCode::validation, "invalid SQLite URL: no file path after 'sqlite:'",
                {{"url", "a file path is required, e.g. sqlite:var/nucleo.db"}});
  if (path.find('"') != std::string_view::npos)
    throw Error(ErrorCode::validation, "invalid SQLite URL: the path may not contain '\"'",
                {{"url", "the path may not contain '\"'"}});
  DatabaseUrl url;
  url.backend = Backend::sqlite;
  url.sqlite_path = std::string(path);
  // SOCI's sqlite3 backend reads `db=`; quoting keeps paths with spaces intact.
  url.connect_string = "db=\"" + url.sqlite_path + "\"";
  url.display = "sqlite:" + url.sqlite_path;
  return url;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::string_view to_string(Backend backend) {
  return backend == Backend::postgresql ? "postgresql" : "sqlite";
}

DatabaseUrl parse_database_url(std::string_view text) {
  if (starts_with(text, "postgresql://") || starts_with(text, "postgres://"))
    return parse_postgresql(std::string(text));
  if (starts_with(text, "postgresql:")) return parse_postgresql(std::string(text.substr(11)));
  if (starts_with(text, "sqlite:")) return parse_sqlite(text.substr(7));
  throw Error(
      ErrorCode::validation,
      "invalid database URL '" + std::string(text.substr(0, 40)) + "': expected 'sqlite:<path>' or 'postgresql://…'",
      {{"url", "unknown scheme"}});
}

}  // namespace nucleo::store
