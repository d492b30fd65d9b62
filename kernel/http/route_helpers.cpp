#include "kernel/http/route_helpers.hpp"

#include <string>

#include "kernel/domain/error.hpp"
#include "kernel/http/request_checks.hpp"

namespace nucleo::http {
namespace {

std::string etag_of(const Json& record) {
  return "\"" + std::to_string(record.at("version").get<std::int64_t>()) + "\"";
}

}  // namespace

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

}  // namespace nucleo::http
