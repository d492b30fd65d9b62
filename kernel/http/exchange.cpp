#include "kernel/http/exchange.hpp"

namespace nucleo::http {

Json ApiRequest::json() const {
  if (body.empty()) throw BadRequest("the request needs a JSON body");
  std::size_t limit = json_depth_limit;
  // The parser reports the depth of every element; refusing deep nesting here keeps a
  // hostile body from costing stack or time further on.
  auto guard = [limit](int depth, Json::parse_event_t, Json&) {
    // depth counts from 0 at the top-level value, so depth == limit is one level too many
    if (static_cast<std::size_t>(depth) >= limit)
      throw BadRequest("the JSON body nests deeper than " + std::to_string(limit) + " levels");
    return true;
  };
  try {
    return Json::parse(body, guard);
  } catch (const Json::parse_error& e) {
    std::string what = e.what();
    auto colon = what.find("] ");
    throw BadRequest("malformed JSON: " + (colon == std::string::npos ? what : what.substr(colon + 2)));
  }
}

}  // namespace nucleo::http
