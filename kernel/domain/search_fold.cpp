#include "kernel/domain/search_fold.hpp"

#include <array>
#include <vector>

namespace nucleo {

const char* const fold_from = "ÁÀÂÃÄÅáàâãäåÇçÉÈÊËéèêëÍÌÎÏíìîïÑñÓÒÔÕÖóòôõöÚÙÛÜúùûüÝýÿ";
const char* const fold_to = "aaaaaaaaaaaacceeeeeeeeiiiiiiiinnoooooooooouuuuuuuuyyy";

namespace {

// Splits UTF-8 text into characters (byte sequences).
std::vector<std::string> characters(std::string_view text) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 1;
    out.emplace_back(text.substr(i, len));
    i += len;
  }
  return out;
}

// Every letter of fold_from is in Latin-1 Supplement (U+00C0–U+00FF): two bytes in UTF-8,
// 0xC3 then 0x80–0xBF. What each second byte folds to ('\0': not folded).
const std::array<char, 64>& latin1_fold() {
  static const std::array<char, 64> table = [] {
    std::array<char, 64> t{};
    auto from = characters(fold_from);
    std::string_view to = fold_to;
    for (std::size_t i = 0; i < from.size() && i < to.size(); ++i)
      if (from[i].size() == 2 && static_cast<unsigned char>(from[i][0]) == 0xC3)
        t[static_cast<unsigned char>(from[i][1]) - 0x80] = to[i];
    return t;
  }();
  return table;
}

}  // namespace

// Byte by byte, allocating nothing but the result: SQLite folds every searched field of
// every record it writes (migration 0030's triggers) and of every record a search reads.
std::string fold_for_search(std::string_view text) {
  const auto& latin1 = latin1_fold();
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 'A' && c <= 'Z') {
      out.push_back(static_cast<char>(c - 'A' + 'a'));
      continue;
    }
    if (c == 0xC3 && i + 1 < text.size()) {
      auto next = static_cast<unsigned char>(text[i + 1]);
      if ((next & 0xC0) == 0x80 && latin1[next - 0x80] != '\0') {
        out.push_back(latin1[next - 0x80]);
        ++i;
        continue;
      }
    }
    out.push_back(static_cast<char>(c));
  }
  return out;
}

bool trigram_searchable(std::string_view folded) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < folded.size();) {
    auto c = static_cast<unsigned char>(folded[i]);
    std::size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 1;
    bool word = c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    run = word ? run + 1 : 0;
    if (run == 3) return true;
    i += length;
  }
  return false;
}

}  // namespace nucleo
