#pragma once

#include <string>
#include <vector>

#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

// Dead letters of the event dispatcher (docs/architecture.md §8): deliveries that failed
// events.max_attempts times, in the caller's tenant. Admins list and replay them.
class EventService {
 public:
  explicit EventService(ServiceDependencies deps) : deps_(deps) {}

  // Newest first: {event_id, event_name, subscriber, attempts, last_error, dead_at}.
  std::vector<Json> dead_letters(const CallContext& ctx, std::size_t limit);

  // Makes the event's dead deliveries (to `subscriber`, or to every subscriber when
  // empty) due again with a fresh count of attempts; audited as "event.replayed".
  // Returns how many; not_found when the event has none.
  std::size_t replay(const CallContext& ctx, const std::string& event_id, const std::string& subscriber);

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
