#pragma once

// How alike two names are, as duplicate detection compares them (docs/api.md,
// "Finding duplicates"): the names folded (case and accents), cut into words, each word
// padded and cut into trigrams as PostgreSQL's pg_trgm does, and the share of trigrams
// the two have in common (Jaccard: shared / all). "Ana Souza" and "ana sousa" score
// 0.54; "João Silva" and "Joao da Silva" 0.79; unrelated names near 0.

#include <string>
#include <string_view>
#include <vector>

namespace nucleo {

// The name's distinct trigrams, sorted.
std::vector<std::string> name_trigrams(std::string_view name);

// Jaccard similarity of two sorted trigram sets, 0 to 1 (two empty sets: 0).
double trigram_similarity(const std::vector<std::string>& a, const std::vector<std::string>& b);
double name_similarity(std::string_view a, std::string_view b);

// The key two spellings of one company's legal name share: folded, punctuation gone,
// the legal form dropped where it ends the name (Ltda, S/A, SA, ME, EPP, EIRELI) —
// "Agro Sementes Ltda." and "AGRO SEMENTES LTDA" → "agro sementes".
std::string company_name_key(std::string_view legal_name);

}  // namespace nucleo
