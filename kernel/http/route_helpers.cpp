#include "kernel/http/route_helpers.hpp"

#include <string>

#include "kernel/domain/error.hpp"
#include "kernel/domain/time.hpp"
#include "kernel/http/request_checks.hpp"
#include "kernel/services/access_policy.hpp"

namespace nucleo::http {

std::string etag_of(const Json& record) {
  return "\"" + std::to_string(record.at("version").get<std::int64_t>()) + "\"";
}

std::optional<std::int64_t> expected_version(const ApiRequest& req) {
  std::string value = req.header("If-Match");
  if (value.empty() || value == "*") return std::nullopt;
  if (value.rfind("W/", 0) == 0) value = value.substr(2);
  if (value.size() < 3 || value.front() != '"' || value.back() != '"')
    throw Error(ErrorCode::precondition_failed, "If-Match must be an ETag such as \"3\"");
  try {
    std::size_t used = 0;
    std::int64_t v = std::stoll(value.substr(1, value.size() - 2), &used);
    if (used != value.size() - 2) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    throw Error(ErrorCode::precondition_failed, "If-Match does not name a version of this resource");
  }
}

Json list_schema(Json item) {
  return {{"type", "object"},
          {"required", {"data"}},
          {"properties", {{"data", {{"type", "array"}, {"items", std::move(item)}}}}},
          {"additionalProperties", false}};
}

Json page_schema(Json item) {
  return {{"type", "object"},
          {"required", {"data", "next_cursor"}},
          {"properties",
           {{"data", {{"type", "array"}, {"items", std::move(item)}}},
            {"next_cursor", {{"type", {"string", "null"}}, {"description", "pass as cursor for the next page"}}}}},
          {"additionalProperties", false}};
}

Json deleted_schema() {
  return {{"type", "object"},
          {"required", {"id", "deleted"}},
          {"properties", {{"id", {{"type", "string"}}}, {"deleted", {{"const", true}}}}},
          {"additionalProperties", false}};
}

ApiResponse record_response(const Json& record, int status) {
  ApiResponse r;
  r.status = status;
  r.body = record;
  r.headers["ETag"] = etag_of(record);
  return r;
}

std::size_t page_size(const ApiRequest& req, const ApiSettings& settings) {
  auto limit = integer_parameter(req, "limit", 1, static_cast<std::int64_t>(settings.max_page_size));
  return limit ? static_cast<std::size_t>(*limit) : settings.default_page_size;
}

Json array_of(std::vector<Json>&& records) {
  Json array = Json::array();
  array.get_ref<Json::array_t&>().reserve(records.size());
  for (auto& record : records) array.push_back(std::move(record));
  return array;
}

// The permission matrix (access_policy.hpp) for records of one entity type.
Access access_to_read(const EntitySpec& spec) {
  return Access::of_roles(services::roles_allowed(spec, services::Operation::read), spec.table + ":read");
}
Access access_to_change(const EntitySpec& spec) {
  return Access::of_roles(services::roles_allowed(spec, services::Operation::write), spec.table + ":write");
}


ApiResponse write_response(const services::WriteResult& result, int status) {
  ApiResponse r = record_response(result.record, status);
  if (!result.duplicates.empty()) r.body["duplicates"] = result.duplicates;
  return r;
}


std::string text_parameter(const ApiRequest& req, const std::string& name) {
  auto it = req.query.find(name);
  return it == req.query.end() ? "" : it->second;
}

bool flag_parameter(const ApiRequest& req, const std::string& name) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return false;
  if (it->second != "true" && it->second != "false")
    throw BadRequest(name + " must be true or false", {{name, "not a boolean"}});
  return it->second == "true";
}

// A required non-negative integer query parameter (400 when absent or malformed).
std::uint64_t count_parameter(const ApiRequest& req, const std::string& name) {
  auto it = req.query.find(name);
  if (it == req.query.end()) throw BadRequest("query parameter '" + name + "' is required");
  const std::string& v = it->second;
  bool digits = !v.empty() && v.size() <= 18 && v.find_first_not_of("0123456789") == std::string::npos;
  if (!digits) throw BadRequest("query parameter '" + name + "' must be a non-negative integer");
  return std::stoull(v);
}

std::optional<std::int64_t> time_parameter(const ApiRequest& req, const std::string& name) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return std::nullopt;
  auto t = parse_rfc3339(it->second);
  if (!t) throw BadRequest("query parameter '" + name + "' must be an RFC 3339 date-time");
  return t->micros;
}

}  // namespace nucleo::http
