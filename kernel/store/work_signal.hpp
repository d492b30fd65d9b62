#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace nucleo::store {

// Background work a committed write can create, as bits: the loop that does each kind
// sleeps until a write announces some (docs/architecture.md, "Waking the background
// loops"; ADR 0037).
enum class Work : unsigned {
  audit = 1,    // audit_pending rows: the sequencer
  outbox = 2,   // outbox rows and replayed dead letters: the event dispatcher
  jobs = 4,     // jobs rows: the job workers
  imports = 8,  // queued imports: the import runner
};
using WorkKinds = unsigned;
constexpr WorkKinds kind(Work w) { return static_cast<WorkKinds>(w); }
constexpr WorkKinds every_kind = 15;

// "audit,outbox" and back: the payload of the PostgreSQL notification that carries
// the kinds to other nodes. Unknown names are ignored (a newer node's kind).
std::string work_names(WorkKinds kinds);
WorkKinds parse_work_names(std::string_view names);

// The process's doorbell for background work. Writers ring it after their commit;
// loops subscribe to the kinds they do. A forwarder (PostgresWorkChannel) passes what
// this process raised on to other nodes; what arrives from them is raised as
// `from_elsewhere` and not forwarded again.
//
// Listeners run on the raising thread, a request's: they must only take note (set a
// flag, notify a condition variable) and never call back into the signal.
class WorkSignal {
 public:
  using Listener = std::function<void(WorkKinds)>;

  // Unsubscribes when destroyed: hold it no longer than what the listener touches.
  class Subscription {
   public:
    Subscription() = default;
    Subscription(Subscription&& other) noexcept;
    Subscription& operator=(Subscription&& other) noexcept;
    ~Subscription();

   private:
    friend class WorkSignal;
    Subscription(WorkSignal* signal, std::size_t id) : signal_(signal), id_(id) {}
    WorkSignal* signal_ = nullptr;
    std::size_t id_ = 0;
  };

  WorkSignal() = default;
  WorkSignal(const WorkSignal&) = delete;
  WorkSignal& operator=(const WorkSignal&) = delete;

  [[nodiscard]] Subscription subscribe(WorkKinds kinds, Listener listener);
  // `forwarder` receives every kind this process raises (none: stop forwarding).
  void forward_to(Listener forwarder);

  enum class Origin { this_process, elsewhere };
  void raise(WorkKinds kinds, Origin origin = Origin::this_process);

 private:
  void unsubscribe(std::size_t id);
  struct Entry {
    std::size_t id;
    WorkKinds kinds;
    Listener listener;
  };
  std::mutex mutex_;
  std::vector<Entry> listeners_;
  Listener forwarder_;
  std::size_t next_id_ = 1;
};

}  // namespace nucleo::store
