// The stalled-deal job on the database bench/run.sh seeded (issue #21): how long one
// run takes to scan every open deal of the tenant when nothing changes (the steady
// state), beside a plain count of the tenant's deals in the same run, and how fast it
// writes marks (deal.stalled, audited) when many deals stall at once.
//
//   stall_scan APP_URL WORKER_URL TENANT_ID [MARKS]   (default 5000)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "kernel/services/sales_process_service.hpp"
#include "kernel/store/sql.hpp"

using namespace nucleo;

namespace {

template <class Work>
double seconds_of(Work&& work) {
  auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: stall_scan APP_URL WORKER_URL TENANT_ID [MARKS]\n");
    return 2;
  }
  const std::string tenant = argv[3];
  const long marks = argc > 4 ? std::atol(argv[4]) : 5000;
  SystemClock clock;
  store::Database app(store::parse_database_url(argv[1]), 2, std::chrono::seconds(10));
  store::Database worker(store::parse_database_url(argv[2]), 2, std::chrono::seconds(10));
  services::ValidatorRegistry validators;
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
  services::SalesProcessService process(deps);
  services::StallSettings settings;
  settings.max_per_run = static_cast<std::size_t>(marks);

  // The steady state: every deal past its stage's rot_days already marked (untimed).
  worker.write(tenant, [&](store::Transaction& tx) {
    store::execute(tx.session(),
                   "UPDATE deals SET stalled_since = stage_entered_at + 86400000000 * (SELECT rot_days FROM stages s"
                   " WHERE s.id = deals.stage_id) WHERE tenant_id = :p0 AND status = 'open'",
                   {tenant});
  });
  long deals = 0;
  std::vector<double> counts, scans;
  services::StallScan scan;
  for (int run = 0; run < 3; ++run) {
    counts.push_back(seconds_of([&] {
      app.read(tenant, [&](store::Transaction& tx) {
        store::query(tx.session(), "SELECT count(*) FROM deals WHERE tenant_id = :p0 AND archived_at IS NULL",
                     {tenant}, [&](const store::Row& r) { deals = store::required_integer(r, 0); });
      });
    }));
    scans.push_back(seconds_of([&] { scan = process.update_stalled_deals(ctx, settings); }));
  }
  std::printf("stalled-deal scan, nothing to change: %zu candidates of %ld deals, median of 3 runs %.3f s "
              "(changes %zu); baseline SELECT count(*) of the tenant's deals %.3f s\n",
              scan.candidates, deals, median(scans), scan.stalled + scan.cleared, median(counts));

  // Marks: `marks` deals not yet marked, written one audited change each.
  worker.write(tenant, [&](store::Transaction& tx) {
    store::execute(tx.session(),
                   "UPDATE deals SET stalled_since = NULL WHERE id IN (SELECT id FROM deals WHERE tenant_id = :p0"
                   " AND stalled_since IS NOT NULL ORDER BY id LIMIT " + std::to_string(marks) + ")",
                   {tenant});
  });
  double marking = seconds_of([&] { scan = process.update_stalled_deals(ctx, settings); });
  std::printf("stall marks written: %zu deal.stalled changes in %.2f s (%.0f/s), scan included\n", scan.stalled,
              marking, scan.stalled / marking);
  return 0;
}
