// Events per second through the outbox dispatcher to one in-process subscriber
// (issue #9), on the database bench/run.sh seeded; the script measures the outbox
// insert rate with pgbench (bench/sql/outbox_insert.sql) in the same run.
//
//   dispatch_throughput WORKER_URL TENANT_ID [EVENTS]   (default 200000)
//
// Writes EVENTS contact.created events to the outbox (500 per transaction, untimed),
// then times the dispatcher delivering all of them — default settings, one node — to a
// subscriber that reads each envelope's entity id.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "kernel/domain/id.hpp"
#include "kernel/events/dispatcher.hpp"
#include "kernel/events/outbox.hpp"

int main(int argc, char** argv) {
  using namespace nucleo;
  if (argc < 3) {
    std::fprintf(stderr, "usage: dispatch_throughput WORKER_URL TENANT_ID [EVENTS]\n");
    return 2;
  }
  const std::string tenant = argv[2];
  const long total = argc > 3 ? std::atol(argv[3]) : 200000;
  SystemClock clock;
  store::Database worker(store::parse_database_url(argv[1]), 2, std::chrono::seconds(10));
  events::Dispatcher dispatcher(worker, clock, events::DispatchSettings{}, "bench");
  long delivered = 0;
  std::size_t id_bytes = 0;
  dispatcher.add({"bench:count", "contact.*", [&](const Json& e) {
                    id_bytes += e["entity"]["id"].get_ref<const std::string&>().size();
                    ++delivered;
                    return std::string();
                  }});

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
        e.entity_id = "con_bench" + std::to_string(written);
        e.data = {{"record", {{"id", e.entity_id}, {"name", "Bench contact"}}}, {"changes", Json::object()}};
        e.request_id = "req_bench";
        events::enqueue_event(tx, e);
      }
    });
  }

  auto start = std::chrono::steady_clock::now();
  long passes = 0;
  while (delivered < total) {
    if (dispatcher.run_once() == 0 && ++passes > 1000000) break;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%ld %.3f %.0f\n", delivered, seconds, static_cast<double>(delivered) / seconds);
  return delivered == total ? 0 : 1;
}
