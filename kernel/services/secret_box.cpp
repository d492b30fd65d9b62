#include "kernel/services/secret_box.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "kernel/audit/personal_data.hpp"
#include "kernel/domain/base64.hpp"
#include "kernel/domain/digest.hpp"
#include "kernel/domain/error.hpp"

namespace nucleo::services {
namespace {

audit::Hash key_from(const std::string& bytes) {
  audit::Hash key{};
  std::copy(bytes.begin(), bytes.end(), key.begin());
  return key;
}

}  // namespace

SecretBox SecretBox::load_or_create(const std::string& path, bool* created) {
  if (created) *created = false;
  namespace fs = std::filesystem;
  if (!fs::exists(path)) {
    std::string key = random_bytes(32);
    if (fs::path(path).has_parent_path()) fs::create_directories(fs::path(path).parent_path());
    {
      std::ofstream out(path, std::ios::trunc);
      if (!out) throw Error(ErrorCode::validation, "cannot create the secrets key file " + path);
      ::chmod(path.c_str(), 0600);  // before the key is in it
      out << to_base64(key) << "\n";
      if (!out.flush()) throw Error(ErrorCode::validation, "cannot write the secrets key file " + path);
    }
    if (created) *created = true;
    return SecretBox(key_from(key));
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

std::string SecretBox::seal(std::string_view bound_to, std::string_view secret) const {
  return to_base64(audit::seal(key_, bound_to, secret));
}

std::optional<std::string> SecretBox::open(std::string_view bound_to, std::string_view sealed) const {
  auto bytes = from_base64(std::string(sealed));
  if (!bytes) return std::nullopt;
  return audit::unseal(key_, bound_to, *bytes);
}

}  // namespace nucleo::services
