#include "kernel/audit/personal_data.hpp"

#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>

#include "kernel/domain/base64.hpp"
#include "kernel/audit/canonical_json.hpp"
#include "kernel/domain/digest.hpp"
#include "kernel/domain/error.hpp"

namespace nucleo::audit {
namespace {

constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherContext new_context() {
  CipherContext ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!ctx) throw Error(ErrorCode::internal, "AES-256-GCM: no cipher context");
  return ctx;
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

thread_local SubjectKeyCache* current_cache = nullptr;

std::optional<SubjectKey> find_key(store::Transaction& tx, const std::string& tenant_id, const std::string& subject_id) {
  std::optional<SubjectKey> key;
  store::query(tx.session(), "SELECT key FROM privacy_subject_keys WHERE tenant_id = :p0 AND subject_id = :p1",
               {tenant_id, subject_id}, [&](const store::Row& r) { key = hash_from_hex(store::required_text(r, 0)); });
  return key;
}

std::optional<SubjectKey> insert_key(store::Transaction& tx, const std::string& tenant_id,
                                    const std::string& subject_id, Timestamp now) {
  std::optional<SubjectKey> key;
  store::query(tx.session(),
               "INSERT INTO privacy_subject_keys (tenant_id, subject_id, key, created_at)"
               " VALUES (:p0, :p1, :p2, :p3) ON CONFLICT DO NOTHING RETURNING key",
               {tenant_id, subject_id, random_hex(32), now.micros},
               [&](const store::Row& r) { key = hash_from_hex(store::required_text(r, 0)); });
  return key;
}

// The subject's key, created on first use; of two writers creating it at once, the
// one whose insert loses reads the winner's. A record that is its own subject (a new
// contact, an interaction with nobody) usually has no key yet, so the insert comes
// first; anyone else's (an existing contact) usually has one, so the read does. The
// transaction's SubjectKeyCache, when it has one, answers before either.
SubjectKey subject_key(store::Transaction& tx, const std::string& tenant_id, const std::string& subject_id,
                       bool probably_new, Timestamp now) {
  if (SubjectKeyCache* cache = SubjectKeyCache::of(tx))
    if (auto key = cache->key_of(tenant_id, subject_id)) return *key;
  std::optional<SubjectKey> key =
      probably_new ? insert_key(tx, tenant_id, subject_id, now) : find_key(tx, tenant_id, subject_id);
  if (!key) key = probably_new ? find_key(tx, tenant_id, subject_id) : insert_key(tx, tenant_id, subject_id, now);
  if (!key) key = find_key(tx, tenant_id, subject_id);  // lost the race after reading nothing
  if (!key) throw Error(ErrorCode::internal, "the key of data subject " + subject_id + " could not be stored");
  return *key;
}

// The key of a subject created in this transaction: nobody can have stored one, so it
// waits with the transaction's appended rows (a primary-key conflict would still fail it).
SubjectKey new_subject_key(store::Transaction& tx, const std::string& tenant_id, const std::string& subject_id,
                           Timestamp now) {
  std::string hex = random_hex(32);
  tx.append("privacy_subject_keys", "(tenant_id, subject_id, key, created_at)", {tenant_id, subject_id, hex, now.micros});
  return *hash_from_hex(hex);
}

}  // namespace

SubjectKeyCache::SubjectKeyCache(store::Transaction& tx, const std::string& tenant_id,
                                 const std::set<std::string>& subjects)
    : tx_(tx), tenant_id_(tenant_id), outer_(current_cache) {
  auto found = [&](const store::Row& r) {
    if (auto key = hash_from_hex(store::required_text(r, 1))) keys_[store::required_text(r, 0)] = *key;
  };
  if (tx.backend() == store::Backend::postgresql) {
    // A probe of the primary key a subject (an IN list beside the tenant may be planned
    // as a scan of the tenant's keys: see write_batch.cpp).
    store::query(tx.session(),
                 "SELECT w.subject_id, k.key FROM unnest(CAST(:p0 AS text[])) AS w(subject_id)"
                 " CROSS JOIN LATERAL (SELECT key FROM privacy_subject_keys WHERE tenant_id = :p1"
                 " AND subject_id = w.subject_id LIMIT 1) AS k",
                 {store::text_array({subjects.begin(), subjects.end()}), tenant_id}, found);
  } else {
    const std::vector<std::string> all(subjects.begin(), subjects.end());
    constexpr std::size_t slice = 500;  // within SQLite's limit on bound values
    for (std::size_t first = 0; first < all.size(); first += slice) {
      std::vector<std::string> some(all.begin() + first, all.begin() + std::min(all.size(), first + slice));
      std::vector<store::SqlValue> params{tenant_id};
      std::string list = store::bound_list(some, params);
      store::query(tx.session(), "SELECT subject_id, key FROM privacy_subject_keys WHERE tenant_id = :p0 AND subject_id IN " + list,
                   params, found);
    }
  }
  current_cache = this;
}

SubjectKeyCache::~SubjectKeyCache() {
  for (auto& [subject, key] : keys_) OPENSSL_cleanse(key.data(), key.size());
  current_cache = outer_;
}

SubjectKeyCache* SubjectKeyCache::of(const store::Transaction& tx) {
  return current_cache && &current_cache->tx_ == &tx ? current_cache : nullptr;
}

std::optional<SubjectKey> SubjectKeyCache::key_of(const std::string& tenant_id, const std::string& subject_id) const {
  if (tenant_id != tenant_id_) return std::nullopt;
  auto it = keys_.find(subject_id);
  return it == keys_.end() ? std::nullopt : std::optional<SubjectKey>(it->second);
}

void SubjectKeyCache::forget(const std::string& tenant_id, const std::string& subject_id) {
  auto it = keys_.find(subject_id);
  if (tenant_id != tenant_id_ || it == keys_.end()) return;
  OPENSSL_cleanse(it->second.data(), it->second.size());
  keys_.erase(it);
}

std::string seal(const SubjectKey& key, std::string_view aad, std::string_view plaintext) {
  std::string out(nonce_size + plaintext.size() + tag_size, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(nonce, nonce_size) != 1) throw Error(ErrorCode::internal, "the system random generator failed");
  CipherContext ctx = new_context();
  int n = 0;
  bool ok = EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &n, bytes(aad), static_cast<int>(aad.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nonce + nonce_size, &n, bytes(plaintext), static_cast<int>(plaintext.size())) ==
                1 &&
            EVP_EncryptFinal_ex(ctx.get(), nonce + nonce_size + n, &n) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_size,
                                nonce + nonce_size + plaintext.size()) == 1;
  if (!ok) throw Error(ErrorCode::internal, "AES-256-GCM encryption failed");
  return out;
}

std::optional<std::string> unseal(const SubjectKey& key, std::string_view aad, std::string_view sealed) {
  if (sealed.size() < nonce_size + tag_size) return std::nullopt;
  std::size_t size = sealed.size() - nonce_size - tag_size;
  std::string out(size, '\0');
  auto* plain = reinterpret_cast<unsigned char*>(out.data());
  std::string tag(sealed.substr(nonce_size + size));
  CipherContext ctx = new_context();
  int n = 0;
  bool ok = EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), bytes(sealed)) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &n, bytes(aad), static_cast<int>(aad.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), plain, &n, bytes(sealed) + nonce_size, static_cast<int>(size)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_size, tag.data()) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), plain + n, &n) == 1;
  if (!ok) return std::nullopt;
  return out;
}

std::string sealed_value_aad(std::string_view event_id, std::string_view field, std::string_view side) {
  std::string aad(event_id);
  aad += '\x1f';
  aad += field;
  aad += '\x1f';
  aad += side;
  return aad;
}

std::string commitment_of(std::string_view salt, std::string_view canonical_value) {
  std::string salted(salt);
  salted += canonical_value;
  return to_base64(sha256(salted));
}

Json seal_personal_values(store::Transaction& tx, const std::string& tenant_id, const std::string& subject_id,
                          const std::string& event_id, const Json& changes,
                          const std::vector<std::string>& personal_fields, Timestamp now, bool seal_to,
                          KnownKey known) {
  Json committed = changes;
  std::optional<SubjectKey> key;
  for (const auto& field : personal_fields) {
    if (!committed.contains(field) || !committed[field].is_object()) continue;
    for (const char* side : {"from", "to"}) {
      Json& v = committed[field][side];
      if (v.is_null() || (!seal_to && std::string_view(side) == "to")) continue;
      if (!key) key = known == KnownKey::certainly_new ? new_subject_key(tx, tenant_id, subject_id, now)
                                                       : subject_key(tx, tenant_id, subject_id,
                                                                     known == KnownKey::probably_new, now);
      std::string value = canonical_json(to_leaf_value_space(v));
      std::string salt = random_bytes(32);
      v = Json{{"commitment", commitment_of(salt, value)}};
      tx.append("audit_sealed_values", "(event_id, tenant_id, subject_id, field, side, sealed)",
                {event_id, tenant_id, subject_id, field, std::string(side),
                 nucleo::to_base64(seal(*key, sealed_value_aad(event_id, field, side), salt + value))});
    }
  }
  return committed;
}

PersonalValueOpener::PersonalValueOpener(store::Transaction& tx, const std::string& tenant_id,
                                         const std::string& condition, const std::vector<store::SqlValue>& values) {
  std::vector<store::SqlValue> all{tenant_id};
  all.insert(all.end(), values.begin(), values.end());
  store::query(tx.session(),
               "SELECT v.event_id, v.field, v.side, v.sealed, k.key FROM audit_log l"
               " JOIN audit_sealed_values v ON v.event_id = l.id"
               " JOIN privacy_subject_keys k ON k.tenant_id = v.tenant_id AND k.subject_id = v.subject_id"
               " WHERE l.tenant_id = :p0 AND v.tenant_id = l.tenant_id AND " + condition,
               all, [&](const store::Row& r) {
                 std::string event_id = store::required_text(r, 0), field = store::required_text(r, 1),
                             side = store::required_text(r, 2);
                 auto key = hash_from_hex(store::text_at(r, 4).value_or(""));
                 auto sealed = nucleo::from_base64(store::text_at(r, 3).value_or(""));
                 if (!key || !sealed) return;
                 auto plain = unseal(*key, sealed_value_aad(event_id, field, side), *sealed);
                 if (!plain || plain->size() < 32) return;
                 std::string salt = plain->substr(0, 32), value = plain->substr(32);
                 opened_[{event_id, field, side}] =
                     Json{{"commitment", commitment_of(salt, value)}, {"value", Json::parse(value)}};
               });
}

Json PersonalValueOpener::open(const std::string& event_id, Json changes) const {
  if (!changes.is_object()) return changes;
  for (auto& [field, change] : changes.items()) {
    if (!change.is_object()) continue;
    for (const char* side : {"from", "to"}) {
      if (!change.contains(side)) continue;
      Json& v = change[side];
      if (!v.is_object() || v.size() != 1 || !v.contains("commitment")) continue;
      auto it = opened_.find({event_id, field, side});
      // A value opens only if it is the one the leaf committed to.
      if (it != opened_.end() && it->second["commitment"] == v["commitment"])
        v = it->second["value"];
      else
        v = Json{{"erased", true}, {"commitment", v["commitment"]}};
    }
  }
  return changes;
}

std::size_t destroy_subject_key(store::Transaction& tx, const std::string& tenant_id, const std::string& subject_id) {
  if (SubjectKeyCache* cache = SubjectKeyCache::of(tx)) cache->forget(tenant_id, subject_id);
  auto destroyed = store::execute(tx.session(), "DELETE FROM audit_sealed_values WHERE tenant_id = :p0 AND subject_id = :p1",
                                  {tenant_id, subject_id});
  store::execute(tx.session(), "DELETE FROM privacy_subject_keys WHERE tenant_id = :p0 AND subject_id = :p1",
                 {tenant_id, subject_id});
  return static_cast<std::size_t>(destroyed);
}

std::size_t destroy_sealed_values_of(store::Transaction& tx, const std::string& tenant_id,
                                     const std::string& entity_type, const std::string& entity_id) {
  return static_cast<std::size_t>(store::execute(
      tx.session(),
      "DELETE FROM audit_sealed_values WHERE tenant_id = :p0 AND event_id IN ("
      "SELECT id FROM audit_log WHERE tenant_id = :p1 AND entity_type = :p2 AND entity_id = :p3"
      " UNION ALL SELECT id FROM audit_pending WHERE tenant_id = :p4 AND entity_type = :p5 AND entity_id = :p6)",
      {tenant_id, tenant_id, entity_type, entity_id, tenant_id, entity_type, entity_id}));
}

}  // namespace nucleo::audit
