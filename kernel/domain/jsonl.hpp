#pragma once

// JSON Lines (https://jsonlines.org): one JSON value per line, UTF-8, fed in pieces of any
// size (the bulk import reads files of any size with flat memory). Blank lines are
// skipped; a line that is not JSON, or longer than `max_line_bytes`, is reported with its
// number and the reading goes on with the next line.
//
//   JsonlReader reader(1 << 20, [](Json&& value, std::size_t line, const std::string& problem) { … });
//   reader.feed(chunk); …; reader.finish();

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "kernel/domain/entity.hpp"

namespace nucleo {

class JsonlReader {
 public:
  // `problem` empty: `value` is the line's value; else it says what is wrong with the line.
  using OnLine = std::function<void(Json&& value, std::size_t line, const std::string& problem)>;
  JsonlReader(std::size_t max_line_bytes, OnLine on_line) : max_line_bytes_(max_line_bytes), on_line_(std::move(on_line)) {}

  void feed(std::string_view bytes);
  void finish();  // the last line, if it has no line end

 private:
  void end_line();

  std::size_t max_line_bytes_;
  OnLine on_line_;
  std::string line_;
  std::size_t number_ = 0;
  bool too_long_ = false;
};

}  // namespace nucleo
