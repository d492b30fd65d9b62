#include "kernel/http/exchange.hpp"

#include <set>
#include <vector>

#include "kernel/domain/json_text.hpp"

namespace nucleo::http {

Json ApiRequest::json_object() const {
  Json parsed = json();
  if (!parsed.is_object())
    throw Error(ErrorCode::validation, "the body must be a JSON object", {{"", "must be an object"}});
  return parsed;
}

Json ApiRequest::json() const {
  if (body.empty()) throw BadRequest("the request needs a JSON body");
  std::size_t limit = json_depth_limit;
  // Keys seen in each open object, innermost last: a duplicate key is refused rather
  // than letting the last one win silently (RFC 8259 §4 leaves it undefined).
  std::vector<std::set<std::string>> keys;
  // The parser reports the depth of every element; refusing deep nesting here keeps a
  // hostile body from costing stack or time further on.
  auto guard = [limit, &keys](int depth, Json::parse_event_t event, Json& parsed) {
    // depth counts from 0 at the top-level value, so depth == limit is one level too many
    if (static_cast<std::size_t>(depth) >= limit)
      throw BadRequest("the JSON body nests deeper than " + std::to_string(limit) + " levels");
    if (event == Json::parse_event_t::object_start) keys.emplace_back();
    if (event == Json::parse_event_t::object_end) keys.pop_back();
    if (event == Json::parse_event_t::key && !keys.back().insert(parsed.get<std::string>()).second)
      throw BadRequest("the JSON body has the key \"" + parsed.get<std::string>() + "\" twice in one object");
    return true;
  };
  Json parsed;
  try {
    parsed = Json::parse(body, guard);
  } catch (const Json::exception& e) {  // parse errors, and numbers out of range (406)
    std::string what = e.what();
    auto colon = what.find("] ");
    throw BadRequest("malformed JSON: " + (colon == std::string::npos ? what : what.substr(colon + 2)));
  }
  refuse_nul(parsed);
  return parsed;
}

}  // namespace nucleo::http
