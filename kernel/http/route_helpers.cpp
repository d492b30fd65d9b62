#include "kernel/http/route_helpers.hpp"

#include <string>

#include "kernel/domain/error.hpp"

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
  auto it = req.query.find("limit");
  if (it == req.query.end()) return settings.default_page_size;
  try {
    std::size_t used = 0;
    long long n = std::stoll(it->second, &used);
    if (used == it->second.size() && n >= 1 && n <= static_cast<long long>(settings.max_page_size))
      return static_cast<std::size_t>(n);
  } catch (const std::exception&) {
  }
  throw BadRequest("limit must be an integer from 1 to " + std::to_string(settings.max_page_size));
}

Json array_of(std::vector<Json>&& records) {
  Json array = Json::array();
  array.get_ref<Json::array_t&>().reserve(records.size());
  for (auto& record : records) array.push_back(std::move(record));
  return array;
}

}  // namespace nucleo::http
