#include "kernel/services/customer_extensions.hpp"

#include <algorithm>

namespace nucleo::services {

void CustomerExtensions::add(TimelineSource source) {
  std::lock_guard lock(mutex_);
  sources_.push_back(std::move(source));
}

void CustomerExtensions::add(BriefingSection section) {
  std::lock_guard lock(mutex_);
  sections_.push_back(std::move(section));
}

void CustomerExtensions::remove_owner(const std::string& owner) {
  std::lock_guard lock(mutex_);
  std::erase_if(sources_, [&](const auto& s) { return s.owner == owner; });
  std::erase_if(sections_, [&](const auto& s) { return s.owner == owner; });
}

std::vector<TimelineSource> CustomerExtensions::timeline_sources() const {
  std::lock_guard lock(mutex_);
  return sources_;
}

std::vector<BriefingSection> CustomerExtensions::briefing_sections() const {
  std::lock_guard lock(mutex_);
  return sections_;
}

}  // namespace nucleo::services
