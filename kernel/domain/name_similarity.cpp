#include "kernel/domain/name_similarity.hpp"

#include <algorithm>
#include <cctype>

#include "kernel/domain/search_fold.hpp"

namespace nucleo {
namespace {

// The folded name's words: runs of letters and digits (bytes of letters the fold leaves
// accented, such as ñ's, count as letters).
std::vector<std::string> words_of(std::string_view name) {
  std::string folded = fold_for_search(name);
  std::vector<std::string> words;
  std::string word;
  for (char c : folded) {
    if (std::isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80) {
      word += c;
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

}  // namespace

std::vector<std::string> name_trigrams(std::string_view name) {
  std::vector<std::string> grams;
  for (const auto& w : words_of(name)) {
    std::string padded = "  " + w + " ";
    for (std::size_t i = 0; i + 3 <= padded.size(); ++i) grams.push_back(padded.substr(i, 3));
  }
  std::sort(grams.begin(), grams.end());
  grams.erase(std::unique(grams.begin(), grams.end()), grams.end());
  return grams;
}

double trigram_similarity(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.empty() || b.empty()) return 0;
  std::size_t shared = 0;
  for (auto i = a.begin(), j = b.begin(); i != a.end() && j != b.end();) {
    if (*i < *j) ++i;
    else if (*j < *i) ++j;
    else ++shared, ++i, ++j;
  }
  return static_cast<double>(shared) / static_cast<double>(a.size() + b.size() - shared);
}

double name_similarity(std::string_view a, std::string_view b) {
  return trigram_similarity(name_trigrams(a), name_trigrams(b));
}

std::string company_name_key(std::string_view legal_name) {
  // "S/A" and "S.A." are the words "s" "a".
  static const std::vector<std::vector<std::string>> legal_forms{{"ltda"}, {"sa"}, {"s", "a"}, {"me"}, {"epp"}, {"eireli"}};
  std::vector<std::string> words = words_of(legal_name);
  auto ends_with = [&](const std::vector<std::string>& tail) {
    return words.size() > tail.size() && std::equal(tail.begin(), tail.end(), words.end() - static_cast<std::ptrdiff_t>(tail.size()));
  };
  for (bool dropped = true; dropped;) {
    dropped = false;
    for (const auto& form : legal_forms)
      if (ends_with(form)) {
        words.resize(words.size() - form.size());
        dropped = true;
      }
  }
  std::string key;
  for (const auto& w : words) key += (key.empty() ? "" : " ") + w;
  return key;
}

}  // namespace nucleo
