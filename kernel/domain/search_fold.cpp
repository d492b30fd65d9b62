#include "kernel/domain/search_fold.hpp"

#include <map>
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

const std::map<std::string, char>& fold_table() {
  static const std::map<std::string, char> table = [] {
    std::map<std::string, char> t;
    auto from = characters(fold_from);
    std::string_view to = fold_to;
    for (std::size_t i = 0; i < from.size() && i < to.size(); ++i) t[from[i]] = to[i];
    return t;
  }();
  return table;
}

}  // namespace

std::string fold_for_search(std::string_view text) {
  const auto& table = fold_table();
  std::string out;
  out.reserve(text.size());
  for (const auto& ch : characters(text)) {
    if (ch.size() == 1) {
      char c = ch[0];
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
      continue;
    }
    auto it = table.find(ch);
    if (it != table.end())
      out.push_back(it->second);
    else
      out += ch;
  }
  return out;
}

bool trigram_searchable(std::string_view folded) {
  std::size_t run = 0;
  for (const auto& ch : characters(folded)) {
    unsigned char c = static_cast<unsigned char>(ch[0]);
    bool word = c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    run = word ? run + 1 : 0;
    if (run == 3) return true;
  }
  return false;
}

}  // namespace nucleo
