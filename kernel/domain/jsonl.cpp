#include "kernel/domain/jsonl.hpp"

#include "kernel/domain/json_text.hpp"

namespace nucleo {

void JsonlReader::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    auto end = bytes.find('\n');
    std::string_view part = bytes.substr(0, end);
    if (!too_long_) {
      if (line_.size() + part.size() > max_line_bytes_) {
        too_long_ = true;  // the rest of the line is dropped as it comes
        line_.clear();
      } else {
        line_.append(part);
      }
    }
    if (end == std::string_view::npos) return;
    end_line();
    bytes.remove_prefix(end + 1);
  }
}

void JsonlReader::finish() {
  if (!line_.empty() || too_long_) end_line();
}

void JsonlReader::end_line() {
  ++number_;
  if (too_long_) {
    too_long_ = false;
    on_line_(Json(), number_, "the line is longer than " + std::to_string(max_line_bytes_) + " bytes");
    return;
  }
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  if (line_.find_first_not_of(" \t") == std::string::npos) {
    line_.clear();
    return;  // blank
  }
  if (number_ == 1 && line_.rfind("\xEF\xBB\xBF", 0) == 0) line_.erase(0, 3);  // a BOM
  std::string text;
  text.swap(line_);
  if (!is_valid_utf8(text)) return on_line_(Json(), number_, "the line is not UTF-8");
  Json value;
  try {
    value = Json::parse(text);
  } catch (const Json::exception&) {
    return on_line_(Json(), number_, "the line is not JSON");
  }
  on_line_(std::move(value), number_, "");
}

}  // namespace nucleo
