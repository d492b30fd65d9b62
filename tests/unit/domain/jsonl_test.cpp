// JSON Lines for the bulk import (issue #24): values line by line from pieces of any size,
// bad lines reported by number while the reading goes on.
#include "kernel/domain/jsonl.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace nucleo {
namespace {

struct Line {
  Json value;
  std::size_t number;
  std::string problem;
};

std::vector<Line> read(const std::string& text, std::size_t piece, std::size_t max_line = 1 << 20) {
  std::vector<Line> lines;
  JsonlReader reader(max_line, [&](Json&& v, std::size_t n, const std::string& p) { lines.push_back({v, n, p}); });
  for (std::size_t at = 0; at < text.size(); at += piece) reader.feed(std::string_view(text).substr(at, piece));
  reader.finish();
  return lines;
}

TEST(Jsonl, ValuesComeLineByLineWhateverThePiecesAndBadLinesAreNamed) {
  std::string text = "\xEF\xBB\xBF{\"nome\": \"Concei\xC3\xA7\xC3\xA3o\"}\r\n\n  \n{\"n\": 1}\nnot json\n[1]\n{\"last\": true}";
  for (std::size_t piece : {1u, 3u, 7u, 1000u}) {
    auto lines = read(text, piece);
    ASSERT_EQ(lines.size(), 5u) << "piece " << piece;
    EXPECT_EQ(lines[0].value["nome"], "Conceição");
    EXPECT_EQ(lines[0].number, 1u);
    EXPECT_EQ(lines[1].value["n"], 1);
    EXPECT_EQ(lines[1].number, 4u) << "blank lines count";
    EXPECT_EQ(lines[2].problem, "the line is not JSON");
    EXPECT_EQ(lines[2].number, 5u);
    EXPECT_TRUE(lines[3].value.is_array()) << "any JSON value; the importer wants objects";
    EXPECT_EQ(lines[4].value["last"], true) << "a last line without its end";
  }
}

TEST(Jsonl, ALineTooLongOrNotUtf8IsReportedAndTheNextIsRead) {
  auto lines = read("{\"a\": \"" + std::string(100, 'x') + "\"}\n\"\xFF\"\n{\"b\": 2}\n", 5, 50);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].problem, "the line is longer than 50 bytes");
  EXPECT_EQ(lines[1].problem, "the line is not UTF-8");
  EXPECT_EQ(lines[2].value["b"], 2);
  EXPECT_EQ(lines[2].number, 3u);
}

}  // namespace
}  // namespace nucleo
