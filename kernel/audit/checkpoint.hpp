#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "kernel/audit/merkle.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace nucleo::audit {

// Checkpoints (docs/architecture.md §5): a C2SP tlog-checkpoint body — origin, tree size, base64 root,
// one per line — in a C2SP signed-note v1 signed with Ed25519 (OpenSSL 3):
//
//   example.com/nucleo/ten_…\n42\nq0Fk…=\n\n— example.com/nucleo/ten_… <base64(key id ‖ signature)>\n
//
// key name = origin; key id = first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key);
// the verifier key is published as a C2SP vkey: <name>+<key id hex>+<base64(0x01 ‖ public key)>.

// An Ed25519 private key. The file lives outside the database (audit.signing_key_file).
class SigningKey {
 public:
  static SigningKey generate();
  // Throws Error(validation) when the file is missing, unreadable or not an Ed25519 key.
  static SigningKey load(const std::string& pem_path);
  // Writes PKCS#8 PEM with mode 0600; refuses to overwrite an existing file.
  void save(const std::string& pem_path) const;

  std::string public_key() const;  // the 32 raw bytes
  std::string sign(const std::string& message) const;  // the 64-byte signature

 private:
  explicit SigningKey(EVP_PKEY* key);
  std::shared_ptr<EVP_PKEY> key_;
};

struct Checkpoint {
  std::string origin;
  std::uint64_t size = 0;
  Hash root{};
};

std::string checkpoint_body(const Checkpoint& c);
std::string key_id(const std::string& name, const std::string& public_key);  // 4 raw bytes
std::string vkey(const std::string& name, const std::string& public_key);
std::string sign_checkpoint(const Checkpoint& c, const SigningKey& key);  // the whole signed note

struct VerifierKey {
  std::string name, id, public_key;
};
// Parses a vkey line; throws Error(validation) naming what is wrong.
VerifierKey parse_vkey(const std::string& text);

// Checks a signed note against the verifier key: exact format, key name = origin,
// key id, Ed25519 signature. The checkpoint, or an error saying what failed.
struct NoteCheck {
  std::optional<Checkpoint> checkpoint;
  std::string error;
};
NoteCheck verify_checkpoint_note(const std::string& note, const VerifierKey& key);

}  // namespace nucleo::audit
