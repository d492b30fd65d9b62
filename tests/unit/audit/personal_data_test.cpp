// AES-256-GCM sealing of personal values: what opens and what must not.
#include <gtest/gtest.h>

#include "kernel/audit/personal_data.hpp"

namespace nucleo::audit {
namespace {

SubjectKey key_of(unsigned char fill) {
  SubjectKey k;
  k.fill(fill);
  return k;
}

TEST(PersonalData, SealedValuesOpenOnlyWithTheirKeyAndBinding) {
  std::string aad = sealed_value_aad("aud_1", "email", "to");
  std::string plain = std::string(32, 's') + "\"maria@agro.com.br\"";
  std::string sealed = seal(key_of(7), aad, plain);
  EXPECT_EQ(sealed.size(), 12 + plain.size() + 16);
  EXPECT_EQ(sealed.find("maria"), std::string::npos);
  EXPECT_EQ(unseal(key_of(7), aad, sealed), plain);

  EXPECT_FALSE(unseal(key_of(8), aad, sealed)) << "another subject's key";
  EXPECT_FALSE(unseal(key_of(7), sealed_value_aad("aud_2", "email", "to"), sealed)) << "moved to another event";
  EXPECT_FALSE(unseal(key_of(7), sealed_value_aad("aud_1", "phone", "to"), sealed)) << "moved to another field";
  EXPECT_FALSE(unseal(key_of(7), sealed_value_aad("aud_1", "email", "from"), sealed)) << "moved to the other side";
  for (std::size_t at : {std::size_t{0}, std::size_t{20}, sealed.size() - 1}) {
    std::string altered = sealed;
    altered[at] = static_cast<char>(altered[at] ^ 1);
    EXPECT_FALSE(unseal(key_of(7), aad, altered)) << "byte " << at << " altered";
  }
  EXPECT_FALSE(unseal(key_of(7), aad, sealed.substr(0, 27))) << "shorter than nonce and tag";
}

TEST(PersonalData, EachSealUsesAFreshNonce) {
  std::string aad = sealed_value_aad("aud_1", "name", "to");
  EXPECT_NE(seal(key_of(1), aad, "same"), seal(key_of(1), aad, "same"));
}

TEST(PersonalData, TheCommitmentIsSha256OfSaltThenValue) {
  EXPECT_EQ(commitment_of("salt", "\"x\""), to_base64(sha256("salt\"x\"")));
  EXPECT_NE(commitment_of("salt", "\"x\""), commitment_of("salu", "\"x\""));
}

}  // namespace
}  // namespace nucleo::audit
