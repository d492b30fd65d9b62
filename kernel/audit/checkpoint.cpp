#include "kernel/audit/checkpoint.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "kernel/domain/base64.hpp"
#include "kernel/domain/error.hpp"

namespace nucleo::audit {
namespace {

constexpr unsigned char ed25519_algorithm = 0x01;  // C2SP signed-note signature type
const std::string em_dash = "\xE2\x80\x94";        // U+2014, starts a signature line

// Strict base64 of something non-empty, or nullopt.
std::optional<std::string> unbase64(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return nucleo::from_base64(text);
}

std::string to_hex_string(const std::string& raw) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

Error key_error(const std::string& why) {
  return Error(ErrorCode::validation, why);
}

bool ed25519_verify(const std::string& public_key, const std::string& message, const std::string& signature) {
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                              reinterpret_cast<const unsigned char*>(public_key.data()), public_key.size());
  if (key == nullptr) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

}  // namespace

SigningKey::SigningKey(EVP_PKEY* key) : key_(key, EVP_PKEY_free) {}

SigningKey SigningKey::generate() {
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  bool ok = ctx != nullptr && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &key) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) throw Error(ErrorCode::internal, "cannot generate an Ed25519 key (OpenSSL)");
  return SigningKey(key);
}

SigningKey SigningKey::load(const std::string& pem_path) {
  FILE* f = std::fopen(pem_path.c_str(), "rb");
  if (f == nullptr) throw key_error("cannot read the signing key " + pem_path);
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (key == nullptr) throw key_error(pem_path + " is not a PEM private key");
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    throw key_error(pem_path + " is not an Ed25519 key");
  }
  return SigningKey(key);
}

void SigningKey::save(const std::string& pem_path) const {
  // O_EXCL: never overwrite a key; 0600 from the first byte.
  int fd = ::open(pem_path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0)
    throw key_error(std::filesystem::exists(pem_path) ? pem_path + " exists: refusing to overwrite a key"
                                                      : "cannot create " + pem_path);
  FILE* f = ::fdopen(fd, "w");
  bool ok = f != nullptr && PEM_write_PrivateKey(f, key_.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  if (f != nullptr) std::fclose(f); else ::close(fd);
  if (!ok) throw Error(ErrorCode::internal, "cannot write " + pem_path);
}

std::string SigningKey::public_key() const {
  unsigned char raw[32];
  std::size_t size = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key_.get(), raw, &size) != 1 || size != 32)
    throw Error(ErrorCode::internal, "cannot read the Ed25519 public key (OpenSSL)");
  return std::string(reinterpret_cast<char*>(raw), size);
}

std::string SigningKey::sign(const std::string& message) const {
  unsigned char signature[64];
  std::size_t size = sizeof signature;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  // Ed25519 is one-shot with no separate digest (docs/architecture.md §2).
  bool ok = ctx != nullptr && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_.get()) == 1 &&
            EVP_DigestSign(ctx, signature, &size, reinterpret_cast<const unsigned char*>(message.data()),
                           message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) throw Error(ErrorCode::internal, "Ed25519 signing failed (OpenSSL)");
  return std::string(reinterpret_cast<char*>(signature), size);
}

std::string checkpoint_body(const Checkpoint& c) {
  return c.origin + "\n" + std::to_string(c.size) + "\n" + to_base64(c.root) + "\n";
}

std::string key_id(const std::string& name, const std::string& public_key) {
  Hash h = sha256(name + "\n" + std::string(1, static_cast<char>(ed25519_algorithm)) + public_key);
  return std::string(reinterpret_cast<const char*>(h.data()), 4);
}

std::string vkey(const std::string& name, const std::string& public_key) {
  return name + "+" + to_hex_string(key_id(name, public_key)) + "+" +
         nucleo::to_base64(std::string(1, static_cast<char>(ed25519_algorithm)) + public_key);
}

std::string sign_checkpoint(const Checkpoint& c, const SigningKey& key) {
  std::string body = checkpoint_body(c);
  std::string public_key = key.public_key();
  return body + "\n" + em_dash + " " + c.origin + " " + nucleo::to_base64(key_id(c.origin, public_key) + key.sign(body)) + "\n";
}

VerifierKey parse_vkey(const std::string& text) {
  std::string line = text;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  auto first = line.find('+');
  auto second = first == std::string::npos ? std::string::npos : line.find('+', first + 1);
  if (second == std::string::npos) throw key_error("a vkey reads <name>+<key id hex>+<base64 key>");
  VerifierKey k;
  k.name = line.substr(0, first);
  std::string id_hex = line.substr(first + 1, second - first - 1);
  auto key = unbase64(line.substr(second + 1));
  if (k.name.empty() || id_hex.size() != 8) throw key_error("a vkey needs a name and an 8-digit hex key id");
  if (!key || key->size() != 33 || static_cast<unsigned char>((*key)[0]) != ed25519_algorithm)
    throw key_error("the vkey's key is not an Ed25519 key (0x01 ‖ 32 bytes, base64)");
  k.public_key = key->substr(1);
  k.id = key_id(k.name, k.public_key);
  if (to_hex_string(k.id) != id_hex) throw key_error("the vkey's key id does not match its name and key");
  return k;
}

NoteCheck verify_checkpoint_note(const std::string& note, const VerifierKey& key) {
  auto blank = note.find("\n\n");
  if (blank == std::string::npos) return {std::nullopt, "not a signed note (no blank line before the signatures)"};
  std::string body = note.substr(0, blank + 1);
  std::string signatures = note.substr(blank + 2);
  // body: exactly three lines
  std::vector<std::string> lines;
  for (std::size_t at = 0; at < body.size();) {
    auto end = body.find('\n', at);
    lines.push_back(body.substr(at, end - at));
    at = end + 1;
  }
  if (lines.size() != 3) return {std::nullopt, "a checkpoint body has three lines: origin, size, root"};
  Checkpoint c;
  c.origin = lines[0];
  if (lines[1].empty() || lines[1].size() > 19 || lines[1].find_first_not_of("0123456789") != std::string::npos ||
      (lines[1].size() > 1 && lines[1][0] == '0'))
    return {std::nullopt, "the tree size is not a decimal number"};
  c.size = std::stoull(lines[1]);
  auto root = hash_from_base64(lines[2]);
  if (!root) return {std::nullopt, "the root is not a base64 SHA-256 hash"};
  c.root = *root;
  if (c.origin != key.name) return {std::nullopt, "the origin " + c.origin + " is not the key's name " + key.name};
  // Any of the signature lines may be ours; we need one that verifies.
  std::string prefix = em_dash + " " + key.name + " ";
  for (std::size_t at = 0; at < signatures.size();) {
    auto end = signatures.find('\n', at);
    if (end == std::string::npos) return {std::nullopt, "the last signature line does not end with a newline"};
    std::string line = signatures.substr(at, end - at);
    at = end + 1;
    if (line.rfind(prefix, 0) != 0) continue;
    auto raw = unbase64(line.substr(prefix.size()));
    if (!raw || raw->size() != 68) return {std::nullopt, "a signature is not base64 of key id ‖ 64 bytes"};
    if (raw->substr(0, 4) != key.id) continue;
    if (!ed25519_verify(key.public_key, body, raw->substr(4))) return {std::nullopt, "the signature does not verify"};
    return {c, ""};
  }
  return {std::nullopt, "no signature by " + key.name + " with key id " + to_hex_string(key.id)};
}

}  // namespace nucleo::audit
