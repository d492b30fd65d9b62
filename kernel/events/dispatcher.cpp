#include "kernel/events/dispatcher.hpp"

#include <Poco/Logger.h>

#include <algorithm>
#include <optional>

#include "kernel/events/backoff.hpp"
#include "kernel/events/outbox.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::events {
namespace {

using store::integer_at;
using store::text_at;

constexpr const char* outbox_columns =
    "seq, id, tenant_id, name, occurred_at, actor, entity_type, entity_id, data, causation_id, depth, request_id";

struct Stored {
  std::int64_t seq = 0;
  DomainEvent event;

  // Built the first time a subscriber is handed the event; the pass's other subscribers
  // share it.
  const Json& envelope() const {
    if (!envelope_) envelope_ = event.envelope();
    return *envelope_;
  }

 private:
  mutable std::optional<Json> envelope_;
};

Stored stored_event(const store::Row& r) {
  Stored s;
  s.seq = store::required_integer(r, 0);
  DomainEvent& e = s.event;
  e.id = store::required_text(r, 1);
  e.tenant_id = store::required_text(r, 2);
  e.name = store::required_text(r, 3);
  e.occurred_at = Timestamp{store::required_integer(r, 4)};
  Json actor = Json::parse(text_at(r, 5).value_or("{}"));
  e.actor = {actor.value("type", ""), actor.value("id", ""),
             actor.value("on_behalf_of", Json()).is_string() ? actor["on_behalf_of"].get<std::string>() : ""};
  e.entity_type = store::required_text(r, 6);
  e.entity_id = store::required_text(r, 7);
  e.data = Json::parse(text_at(r, 8).value_or("{}"));
  e.causation_id = text_at(r, 9).value_or("");
  e.depth = static_cast<int>(integer_at(r, 10).value_or(0));
  e.request_id = text_at(r, 11).value_or("");
  return s;
}

std::int64_t micros(std::chrono::milliseconds ms) {
  return std::chrono::duration_cast<std::chrono::microseconds>(ms).count();
}

std::int64_t retry_delay(const DispatchSettings& s, int attempts) {
  return backoff_micros(s.first_retry, s.max_retry, attempts);
}

struct Failure {
  Stored stored;
  std::string error;
  bool dead = false;  // dead at once (depth limit): no retry
};

// Every failed delivery is logged with what the subscriber said (a dead letter's own
// line is written when it dies); /metrics counts the failing ones (nucleo_event_failures).
void log_failure(const Subscriber& s, const DomainEvent& e, int attempt, int max_attempts, const std::string& error) {
  Poco::Logger::get("nucleo.events")
      .warning("event %s (%s) to %s failed, attempt %d of %d: %s", e.id, e.name, s.name, attempt, max_attempts, error);
}

}  // namespace

bool matches_pattern(const std::string& pattern, const std::string& name) {
  if (pattern == "*") return true;
  if (pattern.size() >= 2 && pattern.compare(pattern.size() - 2, 2, ".*") == 0)
    return name.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0 && name.size() >= pattern.size();
  return pattern == name;
}

// Subscribers at the same cursor — most of them, most of the time — share one read of the
// outbox in a pass: every subscriber used to read, parse and wrap the same rows again
// (a quarter of a server's CPU during an e-mail sync, with five subscribers of "*").
struct Dispatcher::Batches {
  std::map<std::int64_t, std::vector<Stored>> after;
};

Dispatcher::Dispatcher(store::Database& worker, const Clock& clock, DispatchSettings settings, std::string node_id)
    : worker_(worker), clock_(clock), settings_(settings), node_id_(std::move(node_id)) {}

void Dispatcher::release_leases() {
  worker_.write("", [&](store::Transaction& tx) {
    store::execute(tx.session(), "UPDATE event_subscribers SET leased_until = 0 WHERE leased_by = :p0", {node_id_});
  });
  for (auto& p : progress_) p.held_until = 0;
  leases_held_ = 0;
}

void Dispatcher::add(Subscriber subscriber) {
  subscribers_.push_back(std::move(subscriber));
  progress_.push_back({});
  try {
    register_cursor(subscribers_.size() - 1);
  } catch (const std::exception& e) {
    // `serve` starts before the schema may be migrated, and a database that is down
    // must not stop it: the first pass that can will create the cursor.
    Poco::Logger::get("nucleo.events").warning("subscriber " + subscribers_.back().name +
                                               " not registered yet: " + e.what());
  }
}

// A subscriber's cursor row: from the end of the outbox as it is now.
void Dispatcher::register_cursor(std::size_t index) {
  if (progress_[index].registered) return;
  worker_.write("", [&](store::Transaction& tx) {
    std::int64_t end = 0;
    store::query(tx.session(), "SELECT COALESCE(MAX(seq), 0) FROM outbox", {},
                 [&](const store::Row& r) { end = integer_at(r, 0).value_or(0); });
    store::execute(tx.session(),
                   "INSERT INTO event_subscribers (name, last_seq, created_at) VALUES (:p0, :p1, :p2)"
                   " ON CONFLICT (name) DO NOTHING",
                   {subscribers_[index].name, end, clock_.now().micros});
  });
  progress_[index].registered = true;
}

// What every subscriber has waiting, in one statement outside a transaction: an idle
// pass costs that alone (ADR 0037).
std::map<std::string, Dispatcher::Waiting> Dispatcher::survey() {
  std::map<std::string, Waiting> waiting;
  worker_.read_one_statement([&](soci::session& session) {
    store::query(session,
                 "SELECT s.name, s.last_seq, (SELECT MAX(seq) FROM outbox),"
                 " (SELECT MIN(f.next_attempt_at) FROM event_failures f WHERE f.subscriber = s.name AND f.dead_at IS NULL),"
                 " s.leased_by, s.leased_until FROM event_subscribers s",
                 {}, [&](const store::Row& r) {
                   waiting[store::required_text(r, 0)] = {integer_at(r, 1).value_or(0) < integer_at(r, 2).value_or(0),
                                                          integer_at(r, 3), text_at(r, 4).value_or(""),
                                                          integer_at(r, 5).value_or(0)};
                 });
  });
  return waiting;
}

std::size_t Dispatcher::run_once() {
  for (std::size_t i = 0; i < subscribers_.size(); ++i) register_cursor(i);
  auto waiting = survey();
  std::int64_t now = clock_.now().micros;
  next_due_.reset();
  auto due_at = [this](std::int64_t at) { next_due_ = std::min(next_due_.value_or(at), at); };
  std::size_t attempted = 0;
  Batches read;
  for (std::size_t i = 0; i < subscribers_.size(); ++i) {
    const Waiting& w = waiting[subscribers_[i].name];
    bool retries = w.next_retry && *w.next_retry <= now;
    if (w.next_retry && !retries) due_at(*w.next_retry);
    if (!w.new_events && !retries) continue;
    // Another node's, until its lease runs out (it renews the lease while it works).
    if (w.leased_until >= now && w.leased_by != node_id_) {
      due_at(w.leased_until + 1);
      continue;
    }
    if (!claim(i)) continue;
    if (w.new_events) attempted += dispatch_new(subscribers_[i], read);
    if (retries) attempted += retry_due(subscribers_[i]);
    // A gap the dispatch stopped at: its transaction commits (and announces) or is
    // read past after gap_timeout.
    if (progress_[i].gap_seen_since) due_at(progress_[i].gap_seen_since + micros(settings_.gap_timeout));
  }
  return attempted;
}

std::optional<std::chrono::milliseconds> Dispatcher::due_in() const {
  if (!next_due_) return std::nullopt;
  auto micros_left = std::max<std::int64_t>(0, *next_due_ - clock_.now().micros);
  return std::chrono::milliseconds(micros_left / 1000 + 1);
}

std::size_t Dispatcher::purge_delivered() {
  if (settings_.retention.count() == 0) return 0;
  std::int64_t before = clock_.now().micros - std::chrono::duration_cast<std::chrono::microseconds>(settings_.retention).count();
  return worker_.write("", [&](store::Transaction& tx) {
    return static_cast<std::size_t>(store::execute(
        tx.session(),
        "DELETE FROM outbox WHERE occurred_at < :p0"
        " AND seq <= (SELECT COALESCE(MIN(last_seq), (SELECT COALESCE(MAX(seq), 0) FROM outbox)) FROM event_subscribers)"
        " AND seq NOT IN (SELECT event_seq FROM event_failures)"
        // The newest row stays: a subscriber added later starts after its seq, and an
        // empty outbox would start it at 0, before a gap it would wait out.
        " AND seq < (SELECT MAX(seq) FROM outbox)",
        {before}));
  });
}

// Takes (or renews) this node's lease on the subscriber's cursor. While more than half
// of it is left the lease is not rewritten: an idle pass then costs no write.
bool Dispatcher::claim(std::size_t index) {
  std::int64_t now = clock_.now().micros;
  Progress& p = progress_[index];
  if (p.held_until - now > micros(settings_.lease) / 2) return true;
  bool held = worker_.write("", [&](store::Transaction& tx) {
    return store::execute(tx.session(),
                          "UPDATE event_subscribers SET leased_by = :p0, leased_until = :p1"
                          " WHERE name = :p2 AND (leased_until < :p3 OR leased_by = :p4)",
                          {node_id_, now + micros(settings_.lease), subscribers_[index].name, now, node_id_}) == 1;
  });
  p.held_until = held ? now + micros(settings_.lease) : 0;
  leases_held_ = static_cast<std::size_t>(
      std::count_if(progress_.begin(), progress_.end(), [now](const Progress& q) { return q.held_until > now; }));
  return held;
}

std::string Dispatcher::deliver(Subscriber& s, const Json& envelope) {
  try {
    return s.deliver(envelope);
  } catch (const std::exception& e) {
    return e.what()[0] ? e.what() : "the subscriber failed";
  } catch (...) {
    return "the subscriber failed";
  }
}

std::vector<std::string> Dispatcher::deliver_many(Subscriber& s, const std::vector<Json>& envelopes) {
  std::string failed;
  try {
    std::vector<std::string> errors = s.deliver_many(envelopes);
    if (errors.size() == envelopes.size()) return errors;
    failed = "the subscriber answered " + std::to_string(errors.size()) + " outcomes for " +
             std::to_string(envelopes.size()) + " events";
  } catch (const std::exception& e) {
    failed = e.what()[0] ? e.what() : "the subscriber failed";
  } catch (...) {
    failed = "the subscriber failed";
  }
  return std::vector<std::string>(envelopes.size(), failed);
}

std::size_t Dispatcher::dispatch_new(Subscriber& s, Batches& read) {
  const std::size_t index = static_cast<std::size_t>(&s - subscribers_.data());
  std::int64_t last = 0;
  std::vector<Stored> fresh;
  bool cached = false;
  worker_.read("", [&](store::Transaction& tx) {
    fresh.clear();
    store::query(tx.session(), "SELECT last_seq FROM event_subscribers WHERE name = :p0", {s.name},
                 [&](const store::Row& r) { last = integer_at(r, 0).value_or(0); });
    cached = read.after.count(last) > 0;
    if (cached) return;
    store::query(tx.session(),
                 std::string("SELECT ") + outbox_columns + " FROM outbox WHERE seq > :p0 ORDER BY seq LIMIT :p1",
                 {last, static_cast<std::int64_t>(settings_.batch)},
                 [&](const store::Row& r) { fresh.push_back(stored_event(r)); });
  });
  const std::vector<Stored>& batch = cached ? read.after.at(last) : (read.after[last] = std::move(fresh));
  if (batch.empty()) return 0;

  // Stop at a gap in seq (a transaction still running) unless it outlived gap_timeout.
  std::int64_t now = clock_.now().micros;
  std::size_t usable = 0;
  for (std::int64_t expected = last + 1; usable < batch.size(); ++usable, ++expected) {
    if (batch[usable].seq == expected) continue;
    if (progress_[index].gap_seen_since == 0) progress_[index].gap_seen_since = now;
    if (now - progress_[index].gap_seen_since < micros(settings_.gap_timeout)) break;
    Poco::Logger::get("nucleo.events").warning("outbox seq %Ld to %Ld never committed: reading past them", expected,
                                               batch[usable].seq - 1);
    progress_[index].gap_seen_since = 0;
    expected = batch[usable].seq;
  }
  if (usable == 0) return 0;
  if (usable == batch.size()) progress_[index].gap_seen_since = 0;

  std::vector<Failure> failures;
  std::vector<const Stored*> due;
  for (std::size_t k = 0; k < usable; ++k) {
    const Stored& stored = batch[k];
    if (!matches_pattern(s.pattern, stored.event.name)) continue;
    if (stored.event.depth > settings_.max_depth) {
      failures.push_back({stored, "caused at depth " + std::to_string(stored.event.depth) + ", beyond events.max_depth " +
                                      std::to_string(settings_.max_depth) + ": not delivered (a loop?)",
                          true});
      continue;
    }
    due.push_back(&stored);
  }
  std::vector<std::string> errors;
  if (s.deliver_many && !due.empty()) {
    std::vector<Json> envelopes;
    for (const Stored* stored : due) envelopes.push_back(stored->envelope());
    errors = deliver_many(s, envelopes);
  } else {
    for (const Stored* stored : due) errors.push_back(deliver(s, stored->envelope()));
  }
  for (std::size_t k = 0; k < due.size(); ++k) {
    // The first delivery is attempt 1 of events.max_attempts: with 1, it is the last.
    if (errors[k].empty()) continue;
    log_failure(s, due[k]->event, 1, settings_.max_attempts, errors[k]);
    failures.push_back({*due[k], errors[k], settings_.max_attempts <= 1});
  }
  const std::size_t attempted = due.size();

  worker_.write("", [&](store::Transaction& tx) {
    for (const auto& f : failures) {
      const DomainEvent& e = f.stored.event;
      store::execute(tx.session(),
                     "INSERT INTO event_failures (subscriber, event_seq, event_id, tenant_id, event_name, attempts,"
                     " next_attempt_at, dead_at, last_error) VALUES (:p0, :p1, :p2, :p3, :p4, :p5, :p6, :p7, :p8)"
                     " ON CONFLICT (subscriber, event_seq) DO NOTHING",
                     {s.name, f.stored.seq, e.id, e.tenant_id, e.name, std::int64_t{1},
                      f.dead ? store::SqlValue{} : store::SqlValue{now + retry_delay(settings_, 1)},
                      f.dead ? store::SqlValue{now} : store::SqlValue{}, f.error});
    }
    store::execute(tx.session(), "UPDATE event_subscribers SET last_seq = :p0 WHERE name = :p1 AND leased_by = :p2",
                   {batch[usable - 1].seq, s.name, node_id_});
  });
  return attempted;
}

std::size_t Dispatcher::retry_due(Subscriber& s) {
  std::int64_t now = clock_.now().micros;
  struct Due {
    Stored stored;
    int attempts;
  };
  std::vector<Due> due;
  worker_.read("", [&](store::Transaction& tx) {
    std::string columns;
    for (const char* c : {"seq", "id", "tenant_id", "name", "occurred_at", "actor", "entity_type", "entity_id", "data",
                          "causation_id", "depth", "request_id"})
      columns += (columns.empty() ? "o." : ", o.") + std::string(c);
    store::query(tx.session(),
                 "SELECT " + columns +
                     ", f.attempts FROM event_failures f JOIN outbox o ON o.seq = f.event_seq"
                     " WHERE f.subscriber = :p0 AND f.dead_at IS NULL AND f.next_attempt_at <= :p1"
                     " ORDER BY f.next_attempt_at LIMIT :p2",
                 {s.name, now, static_cast<std::int64_t>(settings_.batch)},
                 [&](const store::Row& r) { due.push_back({stored_event(r), static_cast<int>(store::required_integer(r, 12))}); });
  });
  for (auto& d : due) {
    std::string error = deliver(s, d.stored.envelope());
    worker_.write("", [&](store::Transaction& tx) {
      if (error.empty()) {
        store::execute(tx.session(), "DELETE FROM event_failures WHERE subscriber = :p0 AND event_seq = :p1",
                       {s.name, d.stored.seq});
        return;
      }
      int attempts = d.attempts + 1;
      bool dead = attempts >= settings_.max_attempts;
      if (!dead) log_failure(s, d.stored.event, attempts, settings_.max_attempts, error);
      std::int64_t at = clock_.now().micros;
      store::execute(tx.session(),
                     "UPDATE event_failures SET attempts = :p0, next_attempt_at = :p1, dead_at = :p2, last_error = :p3"
                     " WHERE subscriber = :p4 AND event_seq = :p5",
                     {std::int64_t{attempts}, dead ? store::SqlValue{} : store::SqlValue{at + retry_delay(settings_, attempts)},
                      dead ? store::SqlValue{at} : store::SqlValue{}, error, s.name, d.stored.seq});
      if (dead)
        Poco::Logger::get("nucleo.events")
            .warning("event %s to %s is a dead letter after %d attempts: %s", d.stored.event.id, s.name, attempts, error);
    });
  }
  return due.size();
}

}  // namespace nucleo::events
