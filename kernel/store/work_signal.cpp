#include "kernel/store/work_signal.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace nucleo::store {

namespace {
constexpr std::array<std::pair<Work, std::string_view>, 4> names{
    {{Work::audit, "audit"}, {Work::outbox, "outbox"}, {Work::jobs, "jobs"}, {Work::imports, "imports"}}};
}  // namespace

std::string work_names(WorkKinds kinds) {
  std::string out;
  for (const auto& [work, name] : names)
    if (kinds & kind(work)) out.append(out.empty() ? "" : ",").append(name);
  return out;
}

WorkKinds parse_work_names(std::string_view text) {
  WorkKinds kinds = 0;
  while (!text.empty()) {
    std::size_t comma = text.find(',');
    std::string_view one = text.substr(0, comma);
    for (const auto& [work, name] : names)
      if (one == name) kinds |= kind(work);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return kinds;
}

WorkSignal::Subscription::Subscription(Subscription&& other) noexcept
    : signal_(std::exchange(other.signal_, nullptr)), id_(other.id_) {}

WorkSignal::Subscription& WorkSignal::Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    if (signal_) signal_->unsubscribe(id_);
    signal_ = std::exchange(other.signal_, nullptr);
    id_ = other.id_;
  }
  return *this;
}

WorkSignal::Subscription::~Subscription() {
  if (signal_) signal_->unsubscribe(id_);
}

WorkSignal::Subscription WorkSignal::subscribe(WorkKinds kinds, Listener listener) {
  std::lock_guard lock(mutex_);
  listeners_.push_back({next_id_, kinds, std::move(listener)});
  return Subscription(this, next_id_++);
}

void WorkSignal::unsubscribe(std::size_t id) {
  std::lock_guard lock(mutex_);
  listeners_.erase(std::remove_if(listeners_.begin(), listeners_.end(), [id](const Entry& e) { return e.id == id; }),
                   listeners_.end());
}

void WorkSignal::forward_to(Listener forwarder) {
  std::lock_guard lock(mutex_);
  forwarder_ = std::move(forwarder);
}

void WorkSignal::raise(WorkKinds kinds, Origin origin) {
  if (!kinds) return;
  std::lock_guard lock(mutex_);
  for (const auto& e : listeners_)
    if (e.kinds & kinds) e.listener(e.kinds & kinds);
  if (origin == Origin::this_process && forwarder_) forwarder_(kinds);
}

}  // namespace nucleo::store
