// `nucleo audit verify` throughput (issue 6 goal: ≥ 1,000,000 events/s on one core with
// every check on), beside its baseline measured in the same run: SHA-256 over the same
// bytes, which every verifier must do, and the floor: the RFC 9162 leaf and node hashes
// alone (a leaf hash pads its 0x00-prefixed line to whole blocks, and each leaf adds a
// node hash), which no verifier of this log can beat. Writes a bundle of N realistic leaves (canonical
// bytes as the sequencer makes them, a signed checkpoint every 10,000 events), then
// times verify_bundle.
//   build/bench/audit_verify_throughput [EVENTS]   (default 1,000,000)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kernel/audit/bundle_verify.hpp"
#include "kernel/audit/canonical_json.hpp"
#include "kernel/audit/checkpoint.hpp"
#include "kernel/domain/time.hpp"

using namespace nucleo;
namespace fs = std::filesystem;

// Shaped like the leaf `POST /v1/interactions` produces (interaction.logged, every field
// of the new record as a change, the body as a commitment): about 1 KB.
std::string leaf(std::uint64_t seq) {
  auto to = [](Json value) { return Json{{"from", nullptr}, {"to", std::move(value)}}; };
  std::string at = format_rfc3339(Timestamp{1'782'864'000'000'000 + static_cast<std::int64_t>(seq) * 1000});
  std::string number = std::to_string(100000 + seq % 900000);
  Json l = {{"v", 1},
            {"tenant_id", "ten_01kwdfkd00e8xs7761qv3w9a4e"},
            {"seq", seq},
            {"id", "aud_01kwdfkd00e8xs7761qv" + number},
            {"recorded_at", at},
            {"actor", {{"type", "key"}, {"id", "key_01kwdfkd00e8xs7761qv3w9a4e"}, {"on_behalf_of", nullptr}}},
            {"action", "interaction.logged"},
            {"entity", {{"type", "interaction"}, {"id", "int_01kwdfkd00e8xs7761qv" + number}}},
            {"request_id", "req_01kwdfkd00e8xs7761qv" + number},
            {"source_ip", "10.0.0.7"},
            {"reason", nullptr},
            {"changes",
             {{"account_id", to("acc_00000000000000000000001234")},
              {"attributes", to(Json::object())},
              {"body", to({{"commitment", "AAhnbYjMg2n50O/yRgRcf0jovdfhq4uZ2uPg07gKZG4="}})},
              {"channel", to("whatsapp")},
              {"created_at", to(at)},
              {"direction", to("inbound")},
              {"id", to("int_01kwdfkd00e8xs7761qv" + number)},
              {"occurred_at", to(at)},
              {"subject", to("Pedido de cotação safra 2026/27")},
              {"tenant_id", to("ten_01kwdfkd00e8xs7761qv3w9a4e")},
              {"type", to("whatsapp")}}}};
  return audit::canonical_json(l);
}

int main(int argc, char** argv) {
  std::uint64_t events = argc > 1 ? std::stoull(argv[1]) : 1'000'000;
  fs::path dir = fs::temp_directory_path() / "nucleo-verify-bench";
  fs::remove_all(dir);
  fs::create_directories(dir / "checkpoints");
  auto key = audit::SigningKey::generate();
  std::string origin = "bench.nucleo/nucleo/ten_01kwdfkd00e8xs7761qv3w9a4e";
  std::ofstream out(dir / "events.jsonl", std::ios::binary);
  audit::MerkleFrontier tree;
  std::string all;  // the same bytes, for the baseline
  std::vector<std::size_t> ends;  // where each leaf ends in `all`
  for (std::uint64_t seq = 0; seq < events; ++seq) {
    std::string line = leaf(seq);
    out << line << '\n';
    all += line;
    ends.push_back(all.size());
    tree.append(audit::leaf_hash(line));
    if (tree.size() % 10000 == 0)
      std::ofstream(dir / "checkpoints" / (std::to_string(tree.size()) + ".note"))
          << audit::sign_checkpoint({origin, tree.size(), tree.root()}, key);
  }
  out.close();
  std::ofstream(dir / "log.vkey") << audit::vkey(origin, key.public_key()) << "\n";
  std::ofstream(dir / "manifest.json") << Json{{"format", "nucleo-audit-bundle"}, {"version", 1}, {"origin", origin},
                                               {"tenant_id", "ten_01kwdfkd00e8xs7761qv3w9a4e"}, {"first_seq", 0},
                                               {"size", events}, {"prefix", Json::array()}}
                                                  .dump();

  auto t0 = std::chrono::steady_clock::now();
  auto digest = audit::sha256(all);
  auto t1 = std::chrono::steady_clock::now();
  auto report = audit::verify_bundle(dir.string(), std::nullopt);
  auto t2 = std::chrono::steady_clock::now();
  // The same with --jobs N (every core): linear in cores is the goal.
  unsigned jobs = std::max(2u, std::thread::hardware_concurrency());
  auto parallel = audit::verify_bundle(dir.string(), std::nullopt, jobs);
  auto t3 = std::chrono::steady_clock::now();
  // Where the verifier's time goes, part by part, on the same bytes in memory.
  auto timed = [&](auto&& per_leaf) {
    auto start = std::chrono::steady_clock::now();
    std::size_t begin = 0;
    for (std::size_t end : ends) {
      per_leaf(std::string_view(all).substr(begin, end - begin));
      begin = end;
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::optional<std::int64_t> seq;
  double check_s = timed([&](std::string_view l) { (void)audit::check_canonical(l, "seq", seq); });
  audit::MerkleFrontier rebuilt;
  double tree_s = timed([&](std::string_view l) { rebuilt.push(audit::leaf_hash(l)); });
  double hash_s = std::chrono::duration<double>(t1 - t0).count();
  double verify_s = std::chrono::duration<double>(t2 - t1).count();
  double mb = static_cast<double>(all.size()) / 1e6;
  std::printf("events %llu, %.1f MB of leaves (%.0f bytes each)\n", static_cast<unsigned long long>(events), mb,
              static_cast<double>(all.size()) / static_cast<double>(events));
  std::printf("baseline  SHA-256 over the bytes: %.3f s, %.0f MB/s, %.0f events/s equivalent\n", hash_s, mb / hash_s,
              static_cast<double>(events) / hash_s);
  std::printf("floor     leaf + node hashes alone, nothing read or checked: %.3f s, %.0f events/s\n", tree_s,
              static_cast<double>(events) / tree_s);
  std::printf("verify    %s\n          %.3f s, %.0f MB/s, %.0f events/s (%.2f× the baseline's time, %.2f× the floor's)\n",
              report.message.substr(0, 60).c_str(), verify_s, mb / verify_s, static_cast<double>(events) / verify_s,
              verify_s / hash_s, verify_s / tree_s);
  std::printf("          of which: canonical check %.3f s, hashes %.3f s, reading and the rest %.3f s\n", check_s,
              tree_s, verify_s - check_s - tree_s);
  double parallel_s = std::chrono::duration<double>(t3 - t2).count();
  std::printf("--jobs %u  %s\n          %.3f s, %.0f events/s (%.2f× one job's rate)\n", jobs,
              parallel.message == report.message ? "the same verdict" : "A DIFFERENT VERDICT", parallel_s,
              static_cast<double>(events) / parallel_s, verify_s / parallel_s);
  fs::remove_all(dir);
  (void)digest;
  return report.verdict == audit::Verdict::pass && parallel.message == report.message ? 0 : 1;
}
