#include "kernel/audit/bundle_verify.hpp"

#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "kernel/audit/canonical_json.hpp"
#include "kernel/audit/checkpoint.hpp"
#include "kernel/audit/merkle.hpp"
#include "kernel/domain/entity.hpp"
#include "kernel/domain/error.hpp"

namespace nucleo::audit {
namespace fs = std::filesystem;
namespace {

constexpr const char* bundle_format = "nucleo-audit-bundle";

std::optional<std::string> read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Reads a file a line at a time through one large buffer: no copy per line, and no
// per-line stream machinery (a verifier reads millions of lines).
class LineReader {
 public:
  explicit LineReader(const fs::path& path) : in_(path, std::ios::binary), buffer_(1 << 20) {}

  bool is_open() const { return in_.is_open(); }

  // The next line without its newline, valid until the next call; `complete` is false for
  // a last line that lacks its newline. False at the end of the file.
  bool next(std::string_view& line, bool& complete) {
    for (;;) {
      const char* start = buffer_.data() + begin_;
      if (const void* newline = std::memchr(start, '\n', end_ - begin_)) {
        std::size_t length = static_cast<const char*>(newline) - start;
        line = {start, length};
        begin_ += length + 1;
        return complete = true;
      }
      if (!fill()) {
        if (begin_ == end_) return false;
        line = {start, end_ - begin_};
        begin_ = end_;
        complete = false;
        return true;
      }
    }
  }

 private:
  // Keeps the unfinished line, reads more after it; false when nothing more was read.
  bool fill() {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);  // a line longer than the buffer
    in_.read(buffer_.data() + end_, static_cast<std::streamsize>(buffer_.size() - end_));
    auto got = static_cast<std::size_t>(in_.gcount());
    end_ += got;
    return got > 0;
  }

  std::ifstream in_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0;
};

// One line of events.jsonl checked on its own, on any thread: its seq and leaf hash, or
// why it is not a canonical leaf. What needs the lines in order (seq gapless, the tree,
// the checkpoints' roots) is done after, on one thread.
struct CheckedLine {
  std::optional<std::int64_t> seq;
  Hash hash{};
  std::optional<CanonicalError> error;
  bool complete = true;  // false: the file's last line, without its newline
};

CheckedLine check_line(std::string_view line, bool complete) {
  CheckedLine c;
  c.complete = complete;
  c.error = check_canonical(line, "seq", c.seq);
  if (!c.error) c.hash = leaf_hash(line);
  return c;
}

// Lines checked on `jobs` threads, handed back in file order: the canonical check and the
// leaf hash — nearly all of a verifier's work — scale with the cores. This thread only
// reads the file, in blocks of whole lines, straight into each block's buffer; a worker
// finds the lines, checks and hashes them; the caller keeps the tree.
class ParallelLineChecker {
 public:
  ParallelLineChecker(const fs::path& path, unsigned jobs) : in_(path, std::ios::binary), jobs_(jobs) {}

  // The next checked line; false at the end of the file.
  bool next(CheckedLine& line) {
    while (ready_ == nullptr || taken_ == ready_->checked.size()) {
      while ((!eof_ || !carry_.empty()) && in_flight_.size() < jobs_ * 2) start_block();
      if (in_flight_.empty()) return false;
      in_flight_.front().second.wait();
      ready_ = std::move(in_flight_.front().first);
      in_flight_.pop_front();
      taken_ = 0;
    }
    line = ready_->checked[taken_++];
    return true;
  }

 private:
  struct Block {
    std::string bytes;  // whole lines; the last without its newline only at the end of the file
    std::vector<CheckedLine> checked;
  };
  static constexpr std::size_t block_bytes = 4 << 20;

  void start_block() {
    auto block = std::make_unique<Block>();
    std::string& bytes = block->bytes;
    bytes.swap(carry_);  // the start of a line the last block cut off
    for (;;) {
      if (!eof_) {
        std::size_t had = bytes.size();
        bytes.resize(had + block_bytes);
        in_.read(bytes.data() + had, static_cast<std::streamsize>(block_bytes));
        auto got = static_cast<std::size_t>(in_.gcount());
        bytes.resize(had + got);
        eof_ = got < block_bytes;
      }
      std::size_t cut = bytes.rfind('\n');
      if (cut != std::string::npos) {
        carry_.assign(bytes, cut + 1, std::string::npos);
        bytes.resize(cut + 1);
        break;
      }
      if (eof_) break;  // the file's last line, without its newline
      // No newline yet: a line longer than a block; read on.
    }
    if (bytes.empty()) return;
    Block* b = block.get();
    auto checked = std::async(std::launch::async, [b] {
      std::string_view all(b->bytes);
      for (std::size_t at = 0; at < all.size();) {
        std::size_t newline = all.find('\n', at);
        if (newline == std::string_view::npos) {
          b->checked.push_back(check_line(all.substr(at), false));
          break;
        }
        b->checked.push_back(check_line(all.substr(at, newline - at), true));
        at = newline + 1;
      }
    });
    in_flight_.emplace_back(std::move(block), std::move(checked));
  }

  std::ifstream in_;
  unsigned jobs_;
  bool eof_ = false;
  std::string carry_;
  std::deque<std::pair<std::unique_ptr<Block>, std::future<void>>> in_flight_;
  std::unique_ptr<Block> ready_;
  std::size_t taken_ = 0;
};

VerifyReport unusable(const std::string& why) {
  return {Verdict::unusable, "UNUSABLE: " + why, 0, 0};
}

VerifyReport failed(const std::string& why, const VerifyReport& so_far) {
  return {Verdict::fail, "FAIL " + why, so_far.events, so_far.checkpoints_checked};
}

struct Manifest {
  std::string origin, tenant_id;
  std::uint64_t first_seq = 0, size = 0;
  std::vector<Hash> prefix;
  std::uint64_t pending_events = 0;  // recorded but not yet sequenced at export (absent: 0)
};

std::optional<Manifest> read_manifest(const fs::path& dir, std::string& why) {
  auto text = read_text(dir / "manifest.json");
  if (!text) return why = "no manifest.json (not a bundle, or an interrupted export)", std::nullopt;
  Json j = Json::parse(*text, nullptr, false);
  // Types are checked before values: a hostile manifest may put anything anywhere.
  bool right_format = j.is_object() && j.contains("format") && j["format"].is_string() && j["format"] == bundle_format;
  bool version_1 = right_format && j.contains("version") && j["version"].is_number_integer() && j["version"] == 1;
  if (!version_1)
    return why = "manifest.json is not a version-1 nucleo audit bundle manifest", std::nullopt;
  Manifest m;
  try {
    m.origin = j.at("origin").get<std::string>();
    m.tenant_id = j.at("tenant_id").get<std::string>();
    m.first_seq = j.at("first_seq").get<std::uint64_t>();
    m.size = j.at("size").get<std::uint64_t>();
    if (j.contains("pending_events")) m.pending_events = j.at("pending_events").get<std::uint64_t>();
    for (const auto& h : j.at("prefix")) {
      auto hash = hash_from_base64(h.get<std::string>());
      if (!hash) throw std::runtime_error("bad prefix hash");
      m.prefix.push_back(*hash);
    }
  } catch (const std::exception&) {
    return why = "manifest.json lacks origin, tenant_id, first_seq, size or prefix, or has them malformed",
           std::nullopt;
  }
  if (m.prefix.size() != range_nodes({0, m.first_seq}).size())
    return why = "manifest.json's prefix does not match first_seq", std::nullopt;
  return m;
}

}  // namespace

VerifyReport verify_bundle(const std::string& dir_name, const std::optional<std::string>& trusted_note_file,
                           unsigned jobs) {
  fs::path dir(dir_name);
  if (!fs::is_directory(dir)) return unusable(dir_name + " is not a directory");
  std::string why;
  auto manifest = read_manifest(dir, why);
  if (!manifest) return unusable(why);

  // Checkpoints: each must be signed by the origin's key; their roots are checked as
  // the tree is rebuilt.
  std::map<std::uint64_t, Hash> checkpoints;
  std::optional<VerifierKey> key;
  VerifyReport report{Verdict::pass, "", 0, 0};
  auto vkey_text = read_text(dir / "log.vkey");
  if (vkey_text) {
    try {
      key = parse_vkey(*vkey_text);
    } catch (const Error& e) {
      return unusable(std::string("log.vkey: ") + e.what());
    }
    if (key->name != manifest->origin) return unusable("log.vkey names " + key->name + ", not " + manifest->origin);
  }
  if (fs::is_directory(dir / "checkpoints")) {
    for (const auto& entry : fs::directory_iterator(dir / "checkpoints")) {
      std::string name = entry.path().filename().string();
      if (!key) return unusable("checkpoints without log.vkey cannot be checked");
      auto note = read_text(entry.path());
      auto check = verify_checkpoint_note(note.value_or(""), *key);
      if (!check.checkpoint) return failed("checkpoint " + name + ": " + check.error, report);
      if (name != std::to_string(check.checkpoint->size) + ".note")
        return failed("checkpoint " + name + ": it is for tree size " + std::to_string(check.checkpoint->size), report);
      checkpoints[check.checkpoint->size] = check.checkpoint->root;
    }
  }
  std::optional<Checkpoint> trusted;
  if (trusted_note_file) {
    auto note = read_text(*trusted_note_file);
    if (!note) return unusable("cannot read the trusted checkpoint " + *trusted_note_file);
    if (!key) return unusable("a trusted checkpoint needs the bundle's log.vkey");
    auto check = verify_checkpoint_note(*note, *key);
    if (!check.checkpoint) return failed("trusted checkpoint: " + check.error + " (under the bundle's log.vkey)", report);
    trusted = check.checkpoint;
    if (trusted->size < manifest->first_seq)
      return unusable("the trusted checkpoint (size " + std::to_string(trusted->size) +
                      ") is older than the bundle's first event; export from an earlier seq");
  }

  LineReader events(dir / "events.jsonl");
  if (!events.is_open()) return unusable("no events.jsonl");
  MerkleFrontier tree(manifest->first_seq, manifest->prefix);
  std::uint64_t last_checkpoint = manifest->first_seq;
  auto check_roots_at = [&](std::uint64_t size) -> std::optional<VerifyReport> {
    if (auto it = checkpoints.find(size); it != checkpoints.end()) {
      if (tree.root() != it->second)
        return failed("seq " + std::to_string(last_checkpoint) + "–" + std::to_string(size - 1) +
                          ": the root at size " + std::to_string(size) +
                          " differs from its signed checkpoint — an event in this range was altered, removed or added",
                      report);
      ++report.checkpoints_checked;
      last_checkpoint = size;
    }
    if (trusted && trusted->size == size && tree.root() != trusted->root)
      return failed("the log at size " + std::to_string(size) +
                        " is not the one the trusted checkpoint pinned: history was rewritten",
                    report);
    return std::nullopt;
  };
  if (auto bad = check_roots_at(tree.size())) return *bad;
  // Each checked line in file order: seq gapless, the tree rebuilt, roots checked.
  auto take = [&](const CheckedLine& line) -> std::optional<VerifyReport> {
    std::uint64_t expected = tree.size();
    if (!line.complete) return failed("seq " + std::to_string(expected) + ": the last line has no newline (truncated)", report);
    if (line.error)
      return failed("seq " + std::to_string(expected) + ": not canonical JSON at byte " +
                        std::to_string(line.error->offset) + ": " + line.error->message,
                    report);
    const auto& seq = line.seq;
    if (!seq || *seq < 0 || static_cast<std::uint64_t>(*seq) != expected)
      return failed("seq " + std::to_string(expected) + ": found " + (seq ? "seq " + std::to_string(*seq) : "no seq") +
                        " — an event is missing, duplicated or out of order",
                    report);
    tree.push(line.hash);
    ++report.events;
    return check_roots_at(tree.size());
  };
  if (jobs <= 1) {
    std::string_view text;
    bool complete = true;
    while (events.next(text, complete))
      if (auto bad = take(check_line(text, complete))) return *bad;
  } else {
    ParallelLineChecker checker(dir / "events.jsonl", jobs);
    CheckedLine line;
    while (checker.next(line))
      if (auto bad = take(line)) return *bad;
  }
  if (tree.size() != manifest->size)
    return failed("the bundle holds events up to seq " + std::to_string(tree.size()) + ", the manifest says " +
                      std::to_string(manifest->size) + " (truncated)",
                  report);
  if (!checkpoints.empty() && checkpoints.rbegin()->first > tree.size())
    return failed("checkpoint " + std::to_string(checkpoints.rbegin()->first) + " is beyond the last event (" +
                      std::to_string(tree.size()) + "): events were removed from the end",
                  report);
  if (trusted && trusted->size > tree.size())
    return failed("the log ends at " + std::to_string(tree.size()) + " events, before the trusted checkpoint's " +
                      std::to_string(trusted->size) + ": it was truncated or rolled back",
                  report);
  report.message = "PASS: " + std::to_string(report.events) + " events (seq " + std::to_string(manifest->first_seq) +
                   "–" + std::to_string(tree.size() == 0 ? 0 : tree.size() - 1) + "), " +
                   std::to_string(report.checkpoints_checked) + " checkpoints, root " + to_base64(tree.root()) +
                   (trusted ? ", consistent with the trusted checkpoint at " + std::to_string(trusted->size) : "");
  if (checkpoints.empty()) report.message += " (no checkpoints: nothing pins these roots)";
  // A PASS speaks for the events in the bundle; say when the log had more waiting.
  if (manifest->pending_events > 0)
    report.message += "; NOTE: " + std::to_string(manifest->pending_events) +
                      " more events were recorded but not yet sequenced at export, and are not in this bundle";
  return report;
}

VerifyReport verify_party_bundle(const std::string& file, const std::optional<std::string>& vkey_file) {
  auto text = read_text(file);
  if (!text) return unusable("cannot read " + file);
  Json bundle = Json::parse(*text, nullptr, false);
  // A data subject's report carries her trail as a party bundle under "audit".
  if (bundle.is_object() && bundle.value("format", "") == "nucleo-subject-report") {
    if (!bundle.value("audit", Json()).is_object()) return unusable(file + ": a subject report has an \"audit\" object");
    if (bundle["audit"].value("checkpoint", Json()).is_null())
      return unusable(file + ": no checkpoint was signed when the report was made: nothing to verify against");
    Json subject = bundle.value("subject", Json::object()).value("contact_id", Json("?"));
    bundle = std::move(bundle["audit"]);
    bundle["format"] = "nucleo-party-bundle";
    bundle["party_id"] = subject.is_string() ? subject : Json("?");
  }
  if (!bundle.is_object() || bundle.value("format", "") != "nucleo-party-bundle")
    return unusable(file + " is not a party bundle (\"format\": \"nucleo-party-bundle\") or a subject report");
  const Json& note = bundle.value("checkpoint", Json());
  const Json& events = bundle.value("events", Json());
  if (!note.is_string() || !events.is_array()) return unusable(file + ": a party bundle has \"checkpoint\" and \"events\"");
  VerifyReport report{Verdict::pass, "", 0, 0};
  // The checkpoint: signed by the log's key when it is given; its size and root either way.
  Checkpoint checkpoint;
  if (vkey_file) {
    auto vkey_text = read_text(*vkey_file);
    if (!vkey_text) return unusable("cannot read the verifier key " + *vkey_file);
    std::optional<VerifierKey> key;
    try {
      key = parse_vkey(*vkey_text);
    } catch (const Error& e) {
      return unusable(*vkey_file + ": " + e.what());
    }
    auto check = verify_checkpoint_note(note.get<std::string>(), *key);
    if (!check.checkpoint) return failed("checkpoint: " + check.error, report);
    checkpoint = *check.checkpoint;
    report.checkpoints_checked = 1;
  } else {
    std::istringstream lines(note.get<std::string>());
    std::string origin, size, root;
    std::getline(lines, origin);
    std::getline(lines, size);
    std::getline(lines, root);
    auto hash = hash_from_base64(root);
    if (size.empty() || size.find_first_not_of("0123456789") != std::string::npos || !hash)
      return unusable("the checkpoint note is malformed");
    checkpoint = {origin, std::stoull(size), *hash};
  }
  std::uint64_t unproven = 0;
  for (const auto& e : events) {
    std::string where = "seq " + (e.contains("seq") ? e["seq"].dump() : std::string("?"));
    if (!e.is_object() || !e.value("seq", Json()).is_number_unsigned() || !e.value("leaf", Json()).is_string())
      return unusable(where + ": an event is {\"seq\", \"leaf\", \"leaf_hash\", \"proof\"}");
    const std::string& leaf = e["leaf"].get_ref<const std::string&>();
    std::optional<std::int64_t> seq;
    if (auto error = check_canonical(leaf, "seq", seq)) return failed(where + ": not canonical JSON: " + error->message, report);
    if (!seq || *seq != e["seq"].get<std::int64_t>()) return failed(where + ": the leaf names another seq", report);
    Hash hash = leaf_hash(leaf);
    if (e.value("leaf_hash", "") != to_base64(hash)) return failed(where + ": the leaf does not hash to its leaf_hash", report);
    ++report.events;
    if (e.value("proof", Json()).is_null()) {
      if (static_cast<std::uint64_t>(*seq) < checkpoint.size)
        return failed(where + ": no proof, though the checkpoint covers it", report);
      ++unproven;
      continue;
    }
    std::vector<Hash> path;
    for (const auto& h : e["proof"]) {
      auto node = h.is_string() ? hash_from_base64(h.get<std::string>()) : std::nullopt;
      if (!node) return unusable(where + ": a proof is an array of base64 hashes");
      path.push_back(*node);
    }
    if (!verify_inclusion(static_cast<std::uint64_t>(*seq), checkpoint.size, hash, path, checkpoint.root))
      return failed(where + ": its proof does not lead to the checkpoint's root at size " + std::to_string(checkpoint.size) +
                        " — the event was altered, or is not in this log",
                    report);
  }
  report.message = "PASS: " + std::to_string(report.events - unproven) + " events of party " +
                   bundle.value("party_id", std::string("?")) + " proven in the log at size " +
                   std::to_string(checkpoint.size) + ", root " + to_base64(checkpoint.root) +
                   (vkey_file ? ", checkpoint signed by " + checkpoint.origin + "'s key"
                              : " (checkpoint signature NOT checked: pass --vkey)");
  if (unproven > 0) report.message += "; " + std::to_string(unproven) + " newer events are listed but no signed checkpoint pins them yet";
  return report;
}

}  // namespace nucleo::audit
