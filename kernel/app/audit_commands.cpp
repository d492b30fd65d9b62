#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kernel/app/commands.hpp"
#include "kernel/app/configuration.hpp"
#include "kernel/app/kernel_runtime.hpp"
#include "kernel/app/settings.hpp"
#include "kernel/audit/audit_log.hpp"
#include "kernel/audit/bundle.hpp"
#include "kernel/services/audit_service.hpp"
#include "kernel/services/tenant_service.hpp"
#include "kernel/domain/error.hpp"

namespace nucleo::app {
namespace {

// Offline checks print one line and answer with the exit code an auditor scripts on:
// 0 valid, 1 invalid, 2 the input cannot be used (unreadable, not JSON, malformed).
constexpr int exit_invalid = 1;
constexpr int exit_unusable = 2;

Json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::validation, "cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  Json j = Json::parse(text.str(), nullptr, false);
  if (j.is_discarded()) throw Error(ErrorCode::validation, path + " is not JSON");
  return j;
}

int verify_proof_file(const ParsedArgs& args, const std::string& kind, std::ostream& out, std::ostream& err) {
  if (args.positionals.size() != 2) {
    err << "nucleo audit " << kind << ": expected one FILE\n";
    return exit_unusable;
  }
  const std::string& file = args.positionals[1];
  bool valid = false;
  try {
    Json j = read_json_file(file);
    if (kind == "verify-inclusion") {
      auto p = audit::inclusion_proof_from_json(j);
      valid = audit::verify_inclusion(p.leaf_index, p.tree_size, p.leaf_hash, p.proof, p.root);
    } else {
      auto p = audit::consistency_proof_from_json(j);
      valid = audit::verify_consistency(p.size1, p.size2, p.root1, p.root2, p.proof);
    }
  } catch (const Error& e) {
    err << "nucleo audit " << kind << ": " << file << ": " << e.what() << "\n";
    return exit_unusable;
  }
  if (!valid) {
    out << "INVALID: the proof does not lead to the stated root\n";
    return exit_invalid;
  }
  out << "VALID\n";
  return exit_ok;
}

int run_keygen(const ParsedArgs& args, std::ostream& out) {
  if (!args.has("out") || args.value("out").empty())
    throw Error(ErrorCode::validation, "missing --out FILE", {{"out", "is required"}});
  auto key = audit::SigningKey::generate();
  key.save(args.value("out"));
  out << "private_key_file=" << args.value("out") << "\n";
  std::string public_key = key.public_key();
  audit::Hash raw{};  // an Ed25519 public key is 32 bytes, like a hash
  std::copy(public_key.begin(), public_key.end(), raw.begin());
  out << "public_key=" << audit::to_base64(raw);
  if (args.has("origin") && !args.value("origin").empty())
    out << "\nvkey=" << audit::vkey(args.value("origin"), public_key);
  out << "\n";
  return exit_ok;
}

std::string required(const ParsedArgs& args, const std::string& option) {
  if (!args.has(option) || args.value(option).empty())
    throw Error(ErrorCode::validation, "missing --" + option, {{option, "is required"}});
  return args.value(option);
}

int run_export(const ParsedArgs& args, std::ostream& out, std::ostream& err) {
  std::string tenant = required(args, "tenant"), dir = required(args, "out");
  std::uint64_t from_seq = 0;
  if (args.has("from-seq")) {
    const std::string& v = args.value("from-seq");
    if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos)
      throw Error(ErrorCode::validation, "--from-seq must be a non-negative integer", {{"from-seq", "not a number"}});
    from_seq = std::stoull(v);
  }
  auto config = load_configuration(args.value("config"), process_environment());
  KernelRuntime runtime(config, 2);
  if (!services::TenantService(runtime.dependencies()).exists(tenant))
    throw Error(ErrorCode::not_found, "no tenant " + tenant + " (see 'nucleo tenant list')");
  AuditSettings settings = read_audit_settings(config);
  std::optional<audit::SigningKey> key;
  if (!settings.signing_key_file.empty()) key = audit::SigningKey::load(settings.signing_key_file);
  else err << "nucleo audit export: audit.signing_key_file is not set: the bundle has no log.vkey\n";
  SystemClock clock;
  auto summary = audit::export_bundle(runtime.dependencies().worker_database, tenant, from_seq,
                                      audit::origin_of(settings.checkpoints.origin_host, tenant), key, dir, clock.now());
  services::CallContext ctx;
  ctx.tenant_id = tenant;
  ctx.actor = {"system", "cli", ""};
  ctx.clock = &clock;
  ctx.reason = args.value("reason");
  services::AuditService(runtime.dependencies())
      .record_export(ctx, {{"first_seq", summary.first_seq}, {"size", summary.size}, {"out", dir}});
  out << "dir=" << dir << "\nevents=" << summary.size - summary.first_seq << "\nfirst_seq=" << summary.first_seq
      << "\nsize=" << summary.size << "\ncheckpoints=" << summary.checkpoints
      << "\npending=" << summary.pending_events << "\n";
  if (summary.pending_events > 0)
    err << "nucleo audit export: " << summary.pending_events
        << " events of this tenant were recorded but not yet sequenced: they are not in the bundle"
           " (a stalled sequencer? see GET /readyz)\n";
  return exit_ok;
}

int run_verify(const ParsedArgs& args, std::ostream& out, std::ostream& err) {
  if (args.positionals.size() != 2) {
    err << "nucleo audit verify: expected one bundle DIR\n";
    return exit_unusable;
  }
  unsigned jobs = 1;
  if (args.has("jobs")) {
    const std::string& v = args.value("jobs");
    if (v.empty() || v.size() > 3 || v.find_first_not_of("0123456789") != std::string::npos || std::stoul(v) < 1 ||
        std::stoul(v) > 256) {
      err << "nucleo audit verify: --jobs must be a whole number from 1 to 256\n";
      return exit_unusable;
    }
    jobs = static_cast<unsigned>(std::stoul(v));
  }
  std::optional<std::string> trusted, vkey;
  if (args.has("trusted-checkpoint")) trusted = args.value("trusted-checkpoint");
  if (args.has("vkey")) vkey = args.value("vkey");
  // A directory is a whole log's bundle; a file, one party's (a vertical pack's regulator export).
  auto report = std::filesystem::is_regular_file(args.positionals[1]) ? audit::verify_party_bundle(args.positionals[1], vkey)
                                                                       : audit::verify_bundle(args.positionals[1], trusted, jobs);
  (report.verdict == audit::Verdict::unusable ? err : out) << report.message << "\n";
  return report.verdict == audit::Verdict::pass ? exit_ok
         : report.verdict == audit::Verdict::fail ? exit_invalid
                                                  : exit_unusable;
}

int run_audit(const ParsedArgs& args, std::ostream& out, std::ostream& err) {
  std::string first = args.positionals.empty() ? "" : args.positionals.front();
  if (first == "keygen") return run_keygen(args, out);
  if (first == "export") return run_export(args, out, err);
  if (first == "verify") return run_verify(args, out, err);
  const std::vector<std::string> subcommands = {"verify-inclusion", "verify-consistency"};
  std::string sub = args.positionals.empty() ? "" : args.positionals.front();
  if (std::find(subcommands.begin(), subcommands.end(), sub) == subcommands.end()) {
    err << "nucleo audit: expected keygen, export, verify DIR, verify-inclusion FILE or verify-consistency FILE\n";
    return exit_unusable;
  }
  return verify_proof_file(args, sub, out, err);
}

}  // namespace

CommandSpec audit_command() {
  CommandSpec c;
  c.name = "audit";
  c.summary = "create the checkpoint signing key; check audit-log proofs offline";
  c.positionals = "keygen | export | verify DIR|FILE | verify-inclusion FILE | verify-consistency FILE";
  c.description =
      "nucleo audit keygen --out FILE [--origin ORIGIN]\n"
      "    Writes a new Ed25519 private key (PEM, mode 0600; never overwrites) for\n"
      "    audit.signing_key_file and prints public_key=… (and vkey=… for ORIGIN, e.g.\n"
      "    crm.example.com/nucleo/ten_…). Keep the key outside the database.\n"
      "nucleo audit export --tenant ID --out DIR [--from-seq N]\n"
      "    Writes the tenant's log as a bundle: manifest.json, events.jsonl (each line the\n"
      "    canonical leaf bytes), checkpoints/<size>.note, log.vkey. DIR must be new or empty.\n"
      "    The export is itself recorded in the audit log.\n"
      "nucleo audit verify DIR [--trusted-checkpoint FILE] [--jobs N]\n"
      "    Offline: checks every line is canonical and seq gapless, rebuilds the tree, checks\n"
      "    each checkpoint's signature and root, and consistency with a checkpoint you kept.\n"
      "    --jobs N checks lines and hashes leaves on N threads (default 1; e.g. $(nproc)).\n"
      "    Prints PASS or the first failing seq (or checkpoint range) and why.\n"
      "    Exit status: 0 pass, 1 fail, 2 unusable input.\n"
      "nucleo audit verify FILE [--vkey VKEY_FILE]\n"
      "    FILE: one party's bundle (a vertical pack's regulator export, e.g. GET\n"
      "    /v1/x/org.nucleo.finance/parties/{id}/regulator-export) or a data subject's report\n"
      "    (GET /v1/privacy/requests/{id}/report, its \"audit\" part): checks each event's leaf\n"
      "    and its inclusion proof to the bundle's checkpoint and, with the log's verifier key\n"
      "    (log.vkey of a full export, or keygen's vkey=), the checkpoint's signature.\n"
      "nucleo audit verify-inclusion FILE\n"
      "    FILE: {\"leaf_index\",\"tree_size\",\"root\",\"leaf_hash\",\"proof\":[…]} (base64 SHA-256 hashes),\n"
      "    as GET /v1/audit/proof/inclusion answers. Checks it by RFC 9162 §2.1.3.2.\n"
      "nucleo audit verify-consistency FILE\n"
      "    FILE: {\"size1\",\"size2\",\"root1\",\"root2\",\"proof\":[…]}, as GET /v1/audit/proof/consistency\n"
      "    answers. Checks it by RFC 9162 §2.1.4.2.\n"
      "Prints VALID or INVALID. Exit status: 0 valid, 1 invalid, 2 unreadable or malformed input.\n"
      "Needs no database and no configuration.";
  c.options = {config_option(),
               {"tenant", "ID", "export: the tenant whose log to export"},
               {"from-seq", "N", "export: start at this seq (default 0)"},
               {"trusted-checkpoint", "FILE", "verify: a checkpoint note kept from earlier"},
               {"jobs", "N", "verify DIR: threads that check lines and hash leaves (default 1)"},
               {"vkey", "FILE", "verify FILE: the log's verifier key, to check the checkpoint's signature"},
               {"reason", "TEXT", "export: why (recorded in the audit event)"},
               {"out", "PATH", "keygen: the private key file; export: the bundle directory"},
               {"origin", "ORIGIN", "keygen: also print the verifier key (vkey) for this log origin"}};
  c.run = run_audit;
  return c;
}

}  // namespace nucleo::app
