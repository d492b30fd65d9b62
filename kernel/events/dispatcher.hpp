#pragma once

// Delivers the outbox's domain events to subscribers, at least once (docs/architecture.md §8).
//
// Each subscriber has a cursor row (event_subscribers): the outbox seq it has read up
// to, and a lease so that on several nodes one dispatches for it at a time. A pass
// claims the lease, delivers the next events in seq order, records each failed
// delivery in event_failures and moves the cursor — failures and cursor in one
// transaction, after the deliveries, so a crash re-delivers rather than loses. Failed
// deliveries are retried with exponential back-off; after `max_attempts` they are dead
// letters, kept until replayed. Delivery order holds per subscriber for first attempts
// only: a retried event arrives after later ones. Subscribers de-duplicate by event id.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kernel/domain/entity.hpp"
#include "kernel/domain/time.hpp"
#include "kernel/store/database.hpp"

namespace nucleo::events {

// An empty error means delivered.
using Deliver = std::function<std::string(const Json& envelope)>;
// A pass's new events at once, in seq order; one error each, as Deliver's.
using DeliverMany = std::function<std::vector<std::string>(const std::vector<Json>& envelopes)>;

struct Subscriber {
  std::string name;     // stable across restarts: "plugin:com.acme.x:deal.*"
  std::string pattern;  // an event name, a prefix ending in ".*" ("deal.*"), or "*"
  Deliver deliver;
  // Optional: a subscriber that does for many events at once what it does for each (one
  // transaction, not one each) takes a pass's new events this way; retries still go
  // one by one through `deliver`.
  DeliverMany deliver_many = nullptr;
};

bool matches_pattern(const std::string& pattern, const std::string& event_name);

struct DispatchSettings {
  std::size_t batch = 200;  // events read per cursor and pass (subscribers at one cursor share them)
  int max_attempts = 8;     // then a dead letter
  std::chrono::milliseconds first_retry{1000};  // doubles on each attempt…
  std::chrono::milliseconds max_retry{std::chrono::minutes(15)};  // …up to this
  std::chrono::milliseconds lease{10000};  // another node takes over after this
  // An outbox seq missing this long after a later one was written belongs to a
  // transaction that rolled back, not one still running: read past it.
  std::chrono::milliseconds gap_timeout{30000};
  int max_depth = 16;  // events caused this deep by other events are not delivered
  // Delivered events older than this leave the outbox (0: kept forever). Events some
  // subscriber has not read, or still retries or holds as a dead letter, stay, and so
  // does the newest.
  std::chrono::hours retention{24 * 7};
};

class Dispatcher {
 public:
  Dispatcher(store::Database& worker, const Clock& clock, DispatchSettings settings, std::string node_id);

  // Before the first pass. A new subscriber starts at the end of the outbox as its
  // first pass finds it: it gets what happens from then on, not the history.
  void add(Subscriber subscriber);

  // One pass over every subscriber: new events, then due retries. Returns the number of
  // deliveries attempted (0: nothing to do, the caller may sleep until due_in()).
  std::size_t run_once();
  // After an idle pass: how long until a retry falls due, or an outbox gap is read past
  // (none: nothing until new events are written).
  std::optional<std::chrono::milliseconds> due_in() const;

  // Deletes what `retention` lets go; returns how many events. Run now and then.
  std::size_t purge_delivered();

  // Gives up the leases this node holds, once no pass runs any more (a clean shutdown):
  // another node, or this one restarted under a new node id, takes over at once
  // instead of waiting out `lease`.
  void release_leases();
  // Subscribers this node held a lease on at its last pass (for /metrics).
  std::size_t leases_held() const { return leases_held_; }

  const DispatchSettings& settings() const { return settings_; }

 private:
  struct State;
  struct Waiting {
    bool new_events = false;
    std::optional<std::int64_t> next_retry;  // µs
    std::string leased_by;
    std::int64_t leased_until = 0;  // µs
  };
  std::map<std::string, Waiting> survey();
  // The outbox rows one pass read, by the cursor they were read after (dispatcher.cpp).
  struct Batches;
  std::size_t dispatch_new(Subscriber& s, Batches& read);
  std::size_t retry_due(Subscriber& s);
  bool claim(std::size_t index);
  void register_cursor(std::size_t index);
  std::string deliver(Subscriber& s, const Json& envelope);
  std::vector<std::string> deliver_many(Subscriber& s, const std::vector<Json>& envelopes);

  store::Database& worker_;
  const Clock& clock_;
  DispatchSettings settings_;
  std::string node_id_;
  std::vector<Subscriber> subscribers_;
  // What this node remembers per subscriber (same index as subscribers_), in µs.
  struct Progress {
    std::int64_t gap_seen_since = 0;  // when the oldest outbox gap was first seen (0: none)
    std::int64_t held_until = 0;      // this node's lease, as it last wrote it
    bool registered = false;          // its event_subscribers row exists
  };
  std::vector<Progress> progress_;
  std::optional<std::int64_t> next_due_;  // µs, found by the last pass
  std::atomic<std::size_t> leases_held_{0};
};

}  // namespace nucleo::events
