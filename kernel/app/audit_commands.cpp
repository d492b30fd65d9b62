#include <algorithm>
#include <fstream>
#include <sstream>

#include "kernel/app/commands.hpp"
#include "kernel/audit/audit_log.hpp"
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

int run_audit(const ParsedArgs& args, std::ostream& out, std::ostream& err) {
  if (!args.positionals.empty() && args.positionals.front() == "keygen") return run_keygen(args, out);
  const std::vector<std::string> subcommands = {"verify-inclusion", "verify-consistency"};
  std::string sub = args.positionals.empty() ? "" : args.positionals.front();
  if (std::find(subcommands.begin(), subcommands.end(), sub) == subcommands.end()) {
    err << "nucleo audit: expected keygen, verify-inclusion FILE or verify-consistency FILE\n";
    return exit_unusable;
  }
  return verify_proof_file(args, sub, out, err);
}

}  // namespace

CommandSpec audit_command() {
  CommandSpec c;
  c.name = "audit";
  c.summary = "create the checkpoint signing key; check audit-log proofs offline";
  c.positionals = "keygen | verify-inclusion FILE | verify-consistency FILE";
  c.description =
      "nucleo audit keygen --out FILE [--origin ORIGIN]\n"
      "    Writes a new Ed25519 private key (PEM, mode 0600; never overwrites) for\n"
      "    audit.signing_key_file and prints public_key=… (and vkey=… for ORIGIN, e.g.\n"
      "    crm.example.com/nucleo/ten_…). Keep the key outside the database.\n"
      "nucleo audit verify-inclusion FILE\n"
      "    FILE: {\"leaf_index\",\"tree_size\",\"root\",\"leaf_hash\",\"proof\":[…]} (base64 SHA-256 hashes),\n"
      "    as GET /v1/audit/proof/inclusion answers. Checks it by RFC 9162 §2.1.3.2.\n"
      "nucleo audit verify-consistency FILE\n"
      "    FILE: {\"size1\",\"size2\",\"root1\",\"root2\",\"proof\":[…]}, as GET /v1/audit/proof/consistency\n"
      "    answers. Checks it by RFC 9162 §2.1.4.2.\n"
      "Prints VALID or INVALID. Exit status: 0 valid, 1 invalid, 2 unreadable or malformed input.\n"
      "Needs no database and no configuration.";
  c.options = {{"out", "FILE", "where keygen writes the private key"},
               {"origin", "ORIGIN", "keygen: also print the verifier key (vkey) for this log origin"}};
  c.run = run_audit;
  return c;
}

}  // namespace nucleo::app
