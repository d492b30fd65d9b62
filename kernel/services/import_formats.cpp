#include "kernel/services/import_formats.hpp"

#include <algorithm>

namespace nucleo::services {

bool ImportFormats::add(PluginImportFormat format) {
  std::lock_guard lock(mutex_);
  if (format.name == "csv" || format.name == "jsonl") return false;
  for (const auto& f : formats_)
    if (f.name == format.name) return false;
  formats_.push_back(std::move(format));
  return true;
}

void ImportFormats::remove_owner(const std::string& owner) {
  std::lock_guard lock(mutex_);
  std::erase_if(formats_, [&](const auto& f) { return f.owner == owner; });
}

std::optional<PluginImportFormat> ImportFormats::find(const std::string& name) const {
  std::lock_guard lock(mutex_);
  for (const auto& f : formats_)
    if (f.name == name) return f;
  return std::nullopt;
}

std::vector<std::string> ImportFormats::names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& f : formats_) out.push_back(f.name);
  return out;
}

}  // namespace nucleo::services
