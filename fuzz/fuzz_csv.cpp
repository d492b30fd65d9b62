// The bulk import's CSV reader takes whatever file a customer uploads: any bytes, fed in
// chunks of any size, must give records or a validation error — never a crash — and the
// same records however the bytes were cut; every field it hands over is UTF-8.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "kernel/domain/csv.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/domain/json_text.hpp"

namespace {

using Rows = std::vector<std::vector<std::string>>;

// The records of `bytes` cut in `chunk`-byte pieces, or an error message.
std::pair<Rows, std::string> read(std::string_view bytes, nucleo::CsvOptions options, std::size_t chunk) {
  Rows rows;
  try {
    nucleo::CsvReader reader(options, [&](nucleo::CsvRecord&& r) { rows.push_back(std::move(r.fields)); });
    for (std::size_t at = 0; at < bytes.size(); at += chunk) reader.feed(bytes.substr(at, chunk));
    reader.finish();
  } catch (const nucleo::Error& e) {
    return {rows, e.what()};
  }
  return {rows, ""};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  nucleo::CsvOptions options;
  options.encoding = static_cast<nucleo::TextEncoding>(data[0] % 3);
  options.max_field_bytes = 64;
  std::size_t chunk = 1 + (data[0] >> 2) % 17;
  auto whole = read(bytes, options, bytes.size() + 1);
  auto cut = read(bytes, options, chunk);
  if (whole != cut) std::abort();
  for (const auto& row : whole.first)
    for (const auto& field : row)
      if (!nucleo::is_valid_utf8(field)) std::abort();
  return 0;
}
