// The canonical-JSON checker reads every line of an untrusted bundle: any input must
// give an answer, never a crash; what it accepts must be JSON that re-serialises to
// exactly the same bytes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kernel/audit/canonical_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto error = nucleo::audit::check_canonical(text);
  nucleo::audit::top_level_integer(text, "seq");
  if (!error) {
    auto parsed = nucleo::Json::parse(text, nullptr, false);
    if (parsed.is_discarded() || nucleo::audit::canonical_json(parsed) != text) std::abort();
  }
  return 0;
}
