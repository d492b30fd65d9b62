// Events per second through 100 active automation rules (issue #31) beside the
// dispatcher's raw delivery rate in the same run, on the database bench/run.sh seeded.
//
//   rules_throughput APP_URL WORKER_URL TENANT_ID [EVENTS [HOT_EVERY [ROUNDS]]]   (default 50000, 1000, 3)
//
// The rules: 60 on contact.created whose conditions fail on every event (a name, an
// e-mail domain, a job title), 30 on deal events (their trigger never takes a contact's
// event), 5 on every event whose condition on the event fails, and 5 that fire on one
// event in HOT_EVERY (a contact named "Hot …"; 0: none), creating a task each. Each of
// ROUNDS rounds writes EVENTS contact.created events to the outbox (untimed) and times
// one dispatcher delivering them to a subscriber that reads each envelope (raw), then
// as many again to the rules' subscriber kernel:automation; the medians are printed
// (events, seconds, events/s for each side, then the firings done in all rounds).
#include <chrono>
#include <cstdio>
#include <algorithm>
#include <cstdlib>

#include "kernel/automation/rules.hpp"
#include "kernel/automation/stage_gate.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/events/outbox.hpp"

using namespace nucleo;

namespace {

// EVENTS contact.created events; every hundredth names one of `hot`, a real contact.
void write_events(store::Database& worker, const std::string& tenant, long total, long hot_every,
                  const std::vector<std::string>& hot, const Clock& clock) {
  for (long written = 0; written < total;) {
    worker.write(tenant, [&](store::Transaction& tx) {
      for (int i = 0; i < 500 && written < total; ++i, ++written) {
        events::DomainEvent e;
        e.occurred_at = clock.now();
        e.id = generate_id(id_prefix::domain_event, e.occurred_at);
        e.name = "contact.created";
        e.tenant_id = tenant;
        e.actor = {"key", "key_bench", ""};
        e.entity_type = "contact";
        const bool is_hot = hot_every > 0 && written % hot_every == 0;
        e.entity_id = is_hot ? hot[static_cast<std::size_t>(written / hot_every) % hot.size()]
                             : "con_bench" + std::to_string(written);
        e.data = {{"record", {{"id", e.entity_id}, {"name", is_hot ? "Hot lead" : "Bench contact"},
                              {"email", "p" + std::to_string(written) + "@example.com"}, {"consent", Json::object()},
                              {"account_id", nullptr}, {"owner_id", nullptr}}},
                  {"changes", Json::object()}};
        e.request_id = "req_bench";
        events::enqueue_event(tx, e);
      }
    });
  }
}

double deliver_all(events::Dispatcher& dispatcher, const long& delivered, long total) {
  auto start = std::chrono::steady_clock::now();
  long idle = 0;
  while (delivered < total && idle < 100000)
    if (dispatcher.run_once() == 0) ++idle;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: rules_throughput APP_URL WORKER_URL TENANT_ID [EVENTS [HOT_EVERY [ROUNDS]]]\n");
    return 2;
  }
  const std::string tenant = argv[3];
  const long total = argc > 4 ? std::atol(argv[4]) : 50000;
  const long hot_every = argc > 5 ? std::max(0L, std::atol(argv[5])) : 1000;  // 0: none fires
  const int rounds = argc > 6 ? std::max(1, std::atoi(argv[6])) : 3;
  SystemClock clock;
  store::Database app(store::parse_database_url(argv[1]), 4, std::chrono::seconds(10));
  store::Database worker(store::parse_database_url(argv[2]), 4, std::chrono::seconds(10));
  services::ValidatorRegistry validators;
  automation::register_stage_gates(validators);
  automation::register_rule_checks(validators);
  services::SensitiveData sensitive;
  auto secrets = services::SecretBox::generate();
  services::AttributeSchemas attribute_schemas;
  services::CustomerExtensions customer_extensions;
  services::ImportFormats import_formats;
  services::ServiceDependencies deps{app, worker, validators, NormalisationSettings{"BR"}, sensitive, secrets,
                                     attribute_schemas, customer_extensions, import_formats};
  services::CallContext ctx;
  ctx.tenant_id = tenant;
  ctx.actor = {"system", "bench", ""};
  ctx.request_id = "bench";
  ctx.clock = &clock;
  services::RecordService records(deps);

  auto rule = [&](const std::string& name, const Json& trigger, const Json& conditions, const Json& actions) {
    records.create(ctx, "automation_rule", {{"name", name}, {"enabled", true}, {"trigger", trigger},
                                            {"conditions", conditions}, {"actions", actions}});
  };
  const Json task = Json::array({{{"type", "create_task"}, {"title", "Follow up {{contact.name}}"}}});
  for (int i = 0; i < 60; ++i) {
    Json condition = i % 3 == 0   ? Json{{"field", "contact.name"}, {"op", "eq"}, {"value", "Nobody " + std::to_string(i)}}
                     : i % 3 == 1 ? Json{{"field", "contact.email"}, {"op", "contains"}, {"value", "@rule" + std::to_string(i)}}
                                  : Json{{"field", "contact.job_title"}, {"op", "exists"}, {"value", true}};
    rule("never " + std::to_string(i), {{"event", "contact.created"}}, Json::array({condition}), task);
  }
  for (int i = 0; i < 30; ++i)
    rule("deals " + std::to_string(i), {{"event", "deal.*"}},
         Json::array({{{"field", "deal.amount"}, {"op", "gte"}, {"value", 1000 * i}}}), task);
  for (int i = 0; i < 5; ++i)
    rule("any " + std::to_string(i), {{"event", "*"}},
         Json::array({{{"field", "event.name"}, {"op", "eq"}, {"value", "never.happens"}}}),
         Json::array({{{"type", "create_task"}, {"title", "Look at {{event.name}}"}}}));
  for (int i = 0; i < 5; ++i)
    rule("hot " + std::to_string(i), {{"event", "contact.created"}},
         Json::array({{{"field", "contact.name"}, {"op", "starts_with"}, {"value", "Hot"}}}), task);
  std::vector<std::string> hot;
  for (int i = 0; i < 20; ++i)
    hot.push_back(records.create(ctx, "contact", {{"name", "Hot lead " + std::to_string(i)}}).record["id"]);

  // Rounds of raw then rules, each on events of its own: the median of each side, as
  // one run on a shared machine can be slowed by a neighbour. Each round's subscribers
  // are new (named for the tenant and the round): they start at the end of the outbox,
  // so each reads only the events written for it; each counts this tenant's events.
  auto subscriber = automation::rules_subscriber(deps, clock, {}, {});
  std::vector<double> raw_seconds, rules_seconds;
  bool all_delivered = true;
  for (int round = 0; round < rounds; ++round) {
    const std::string suffix = tenant + ":" + std::to_string(round);
    long raw_delivered = 0;
    events::Dispatcher raw(worker, clock, events::DispatchSettings{}, "bench-raw");
    raw.add({"bench:raw:" + suffix, "contact.*", [&](const Json& e) {
               if (e["tenant_id"].get_ref<const std::string&>() == tenant) ++raw_delivered;
               return std::string();
             }});
    raw.run_once();
    write_events(worker, tenant, total, hot_every, hot, clock);
    raw_seconds.push_back(deliver_all(raw, raw_delivered, total));

    long ruled = 0;
    events::Dispatcher automated(worker, clock, events::DispatchSettings{}, "bench-rules");
    automated.add({"bench:rules:" + suffix, "contact.*", [&, deliver = subscriber.deliver](const Json& e) {
                     if (e["tenant_id"].get_ref<const std::string&>() == tenant) ++ruled;
                     return deliver(e);
                   }});
    automated.run_once();
    write_events(worker, tenant, total, hot_every, hot, clock);
    rules_seconds.push_back(deliver_all(automated, ruled, total));
    all_delivered = all_delivered && raw_delivered == total && ruled == total;
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double raw_s = median(raw_seconds), rules_s = median(rules_seconds);
  long fired = 0;
  app.read(tenant, [&](store::Transaction& tx) {
    store::query(tx.session(), "SELECT count(*) FROM automation_firings WHERE tenant_id = :p0 AND outcome = 'done'",
                 {tenant}, [&](const store::Row& r) { fired = store::required_integer(r, 0); });
  });
  std::printf("%ld %.3f %.0f %ld %.3f %.0f %ld\n", total, raw_s, total / raw_s, total, rules_s, total / rules_s, fired);
  return all_delivered ? 0 : 1;
}
