#include "kernel/services/secret_box.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "kernel/audit/personal_data.hpp"
#include "kernel/domain/base64.hpp"
#include "kernel/domain/digest.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

audit::Hash key_from(const std::string& bytes) {
  audit::Hash key{};
  std::copy(bytes.begin(), bytes.end(), key.begin());
  return key;
}

// Two nodes starting together on a missing key file must end with one key: each
// writes a whole candidate beside it (0600 from the first byte), then link(2)s it into
// place, which fails for all but the first — the others read the winner's key. A
// reader never sees a half-written file.
bool create_key_file(const std::string& path) {
  namespace fs = std::filesystem;
  if (fs::path(path).has_parent_path()) fs::create_directories(fs::path(path).parent_path());
  std::string candidate = path + ".new-" + random_hex(8);
  int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw Error(ErrorCode::validation, "cannot create the secrets key file " + path + ": " + std::strerror(errno));
  std::string line = to_base64(random_bytes(32)) + "\n";
  bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  bool won = written && ::link(candidate.c_str(), path.c_str()) == 0;
  int link_error = errno;
  ::unlink(candidate.c_str());
  if (!written) throw Error(ErrorCode::validation, "cannot write the secrets key file " + path);
  if (!won && link_error != EEXIST)
    throw Error(ErrorCode::validation, "cannot create the secrets key file " + path + ": " + std::strerror(link_error));
  return won;
}

}  // namespace

SecretBox SecretBox::load_or_create(const std::string& path, bool* created) {
  if (created) *created = false;
  if (!std::filesystem::exists(path)) {
    bool won = create_key_file(path);
    if (created) *created = won;
  }
  std::ifstream in(path);
  std::string text;
  if (!in || !std::getline(in, text)) throw Error(ErrorCode::validation, "cannot read the secrets key file " + path);
  text.erase(text.find_last_not_of(" \t\r") + 1);
  auto key = from_base64(text);
  if (!key || key->size() != 32)
    throw Error(ErrorCode::validation,
                "the secrets key file " + path + " must hold the base64 of 32 bytes (it is created when missing)");
  return SecretBox(key_from(*key));
}

SecretBox SecretBox::generate() {
  return SecretBox(key_from(random_bytes(32)));
}

std::string SecretBox::signature(std::string_view use, std::string_view data) const {
  std::string key(reinterpret_cast<const char*>(key_.data()), key_.size());
  return hmac_sha256_hex(hmac_sha256(key, use), data);
}

std::string SecretBox::seal(std::string_view bound_to, std::string_view secret) const {
  return to_base64(audit::seal(key_, bound_to, secret));
}

std::optional<std::string> SecretBox::open(std::string_view bound_to, std::string_view sealed) const {
  auto bytes = from_base64(std::string(sealed));
  if (!bytes) return std::nullopt;
  return audit::unseal(key_, bound_to, *bytes);
}

std::string SecretBox::fingerprint() const {
  return signature("key-fingerprint", "nucleo secrets key").substr(0, 32);
}

void bind_secrets_key(store::Database& worker, const SecretBox& box, const std::string& key_path, bool created_now,
                      const std::string& node_id, Timestamp now) {
  std::string mine = box.fingerprint();
  std::string recorded = worker.write("", [&](store::Transaction& tx) {
    store::execute(tx.session(),
                   "INSERT INTO deployment_keys (name, fingerprint, recorded_at, recorded_by) VALUES ('secrets', :p0, :p1, :p2)"
                   " ON CONFLICT (name) DO NOTHING",
                   {mine, now.micros, node_id});
    std::string fingerprint;
    store::query(tx.session(), "SELECT fingerprint, recorded_by FROM deployment_keys WHERE name = 'secrets'", {},
                 [&](const store::Row& r) { fingerprint = store::required_text(r, 0); });
    return fingerprint;
  });
  if (recorded == mine) return;
  if (created_now) std::filesystem::remove(key_path);
  throw Error(ErrorCode::validation,
              "the secrets key file " + key_path + " is not the key this database's secrets are sealed with (its " +
                  "fingerprint is " + mine + ", the deployment's " + recorded + ")" +
                  (created_now ? "; this start had created it because it was missing, and removed it again" : "") +
                  ": copy secrets.key_file from a node that already serves this database (docs/operations.md)",
              {{"secrets.key_file", "not the deployment's key"}});
}

}  // namespace nucleo::services
