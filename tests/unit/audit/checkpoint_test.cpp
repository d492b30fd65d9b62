#include "kernel/audit/checkpoint.hpp"

#include <gtest/gtest.h>

#include "kernel/domain/error.hpp"

namespace nucleo::audit {
namespace {

const std::string origin = "crm.example.com/nucleo/ten_01kwdfkd00e8xs7761qv3w9a4e";

TEST(Checkpoint, SignedNoteHasTheC2spShapeAndVerifies) {
  auto key = SigningKey::generate();
  Checkpoint c{origin, 42, leaf_hash("x")};
  std::string note = sign_checkpoint(c, key);
  EXPECT_EQ(note.rfind(origin + "\n42\n" + to_base64(c.root) + "\n\n\xE2\x80\x94 " + origin + " ", 0), 0u) << note;
  EXPECT_EQ(note.back(), '\n');
  auto check = verify_checkpoint_note(note, parse_vkey(vkey(origin, key.public_key())));
  ASSERT_TRUE(check.checkpoint) << check.error;
  EXPECT_EQ(check.checkpoint->size, 42u);
  EXPECT_EQ(check.checkpoint->root, c.root);
}

TEST(Checkpoint, KeyIdFollowsC2spSignedNote) {
  // key id = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4], shown in the vkey as 8 hex digits.
  std::string public_key(32, '\x07');
  Hash h = sha256(origin + "\n" + std::string(1, '\x01') + public_key);
  EXPECT_EQ(key_id(origin, public_key), std::string(reinterpret_cast<const char*>(h.data()), 4));
  std::string v = vkey(origin, public_key);
  EXPECT_EQ(v.rfind(origin + "+", 0), 0u);
  EXPECT_EQ(parse_vkey(v).public_key, public_key);
}

TEST(Checkpoint, TamperedNotesAndWrongKeysAreRefusedWithAReason) {
  auto key = SigningKey::generate(), other = SigningKey::generate();
  std::string note = sign_checkpoint({origin, 7, leaf_hash("y")}, key);
  auto vk = parse_vkey(vkey(origin, key.public_key()));
  auto refuse = [&](const std::string& text, const std::string& why) {
    auto check = verify_checkpoint_note(text, vk);
    EXPECT_FALSE(check.checkpoint) << text;
    EXPECT_NE(check.error.find(why), std::string::npos) << check.error;
  };
  std::string bigger = note;
  bigger.replace(bigger.find("\n7\n"), 3, "\n8\n");
  refuse(bigger, "does not verify");
  refuse(sign_checkpoint({origin, 7, leaf_hash("y")}, other), "no signature by");
  refuse(sign_checkpoint({origin + "x", 7, leaf_hash("y")}, key), "is not the key's name");
  refuse(note.substr(0, note.size() - 1), "newline");
  refuse("no blank line", "not a signed note");
  std::string resigned = sign_checkpoint({origin, 7, leaf_hash("z")}, key);
  EXPECT_TRUE(verify_checkpoint_note(resigned, vk).checkpoint);  // a different root, honestly signed
  EXPECT_THROW(parse_vkey("garbage"), Error);
  std::string v = vkey(origin, key.public_key());
  v[origin.size() + 1] = v[origin.size() + 1] == 'a' ? 'b' : 'a';  // key id digit
  EXPECT_THROW(parse_vkey(v), Error);
}

}  // namespace
}  // namespace nucleo::audit
