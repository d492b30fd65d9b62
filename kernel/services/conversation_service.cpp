#include "kernel/services/conversation_service.hpp"

#include "kernel/services/consent_service.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <numeric>
#include <optional>
#include <regex>
#include <set>

#include "kernel/audit/personal_data.hpp"
#include "kernel/domain/base64.hpp"
#include "kernel/domain/json_text.hpp"
#include "kernel/domain/normalise.hpp"
#include "kernel/services/channel_account_service.hpp"
#include "kernel/services/consent_service.hpp"
#include "kernel/services/write_batch.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

const std::set<std::string> message_keys{"external_id", "type",       "from",          "text",
                                         "subject",     "thread_id",  "content",       "occurred_at",
                                         "references",  "reply_address", "subject_window_days"};
constexpr std::size_t max_references = 20;
const std::set<std::string> channel_types{"whatsapp", "email", "sms"};

struct Sender {
  std::string kind;  // phone | email
  std::string address;
  std::string name;
};

// The sender's address in the form contact points keep (E.164, a lower-cased e-mail). A
// phone of digits only is taken as international (WhatsApp's wa_id: "5511987654321").
Sender sender_of(const Json& from, const NormalisationSettings& normalisation, std::vector<FieldError>& errors) {
  Sender s;
  s.name = from.value("name", Json("")).is_string() ? from.value("name", "") : "";
  if (from.value("phone", Json()).is_string()) {
    std::string text = from["phone"];
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) text = "+" + text;
    auto phone = normalise_phone(text, normalisation.default_region);
    if (!phone) errors.push_back({"from/phone", "is not a phone number"});
    s = {"phone", phone.value_or(""), s.name};
  } else if (from.value("email", Json()).is_string()) {
    auto email = normalise_email(from["email"].get<std::string>());
    if (!email) errors.push_back({"from/email", "is not an e-mail address"});
    s = {"email", email.value_or(""), s.name};
  } else {
    errors.push_back({"from", "must hold the sender's phone or email"});
  }
  return s;
}

// The message's subject window in days, when it gives a valid one (read as 64 bits: a
// larger number must not wrap into the range).
std::optional<std::int64_t> subject_window_of(const Json& m) {
  const Json& days = m.value("subject_window_days", Json());
  if (!days.is_number_integer() || days.get<std::int64_t>() < 0 || days.get<std::int64_t>() > 365) return std::nullopt;
  return days.get<std::int64_t>();
}

Sender checked(const Json& m, const NormalisationSettings& normalisation) {
  std::vector<FieldError> errors;
  if (!m.is_object()) throw Error(ErrorCode::validation, "a message is a JSON object", {{"", "must be an object"}});
  for (const auto& [key, v] : m.items())
    if (!message_keys.count(key)) errors.push_back({key, "is not a field of an inbound message"});
  // A channel plugin hands messages over past the HTTP layer's check: refused here, the
  // batch's other messages still recorded (it failed as `internal` on PostgreSQL).
  if (auto at = field_with_nul(m); !at.empty()) errors.push_back({at, "must not contain NUL (\\u0000) characters"});
  Json external = m.value("external_id", Json());
  if (!external.is_string() || external.get<std::string>().empty() || external.get<std::string>().size() > 300)
    errors.push_back({"external_id", "must be the channel's id of the message (1 to 300 characters)"});
  if (!m.value("type", Json()).is_string() || !channel_types.count(m["type"].get<std::string>()))
    errors.push_back({"type", "must be whatsapp, email or sms"});
  for (const char* text : {"text", "subject", "thread_id"})
    if (m.contains(text) && !m[text].is_string()) errors.push_back({text, "must be a string"});
  if (m.contains("content") && !m["content"].is_object()) errors.push_back({"content", "must be an object"});
  if (m.contains("references")) {
    const Json& refs = m["references"];
    bool ok = refs.is_array() && refs.size() <= max_references;
    for (std::size_t i = 0; ok && i < refs.size(); ++i)
      ok = refs[i].is_string() && !refs[i].get<std::string>().empty() && refs[i].get<std::string>().size() <= 300;
    if (!ok) errors.push_back({"references", "must be at most 20 ids of earlier messages (1 to 300 characters each)"});
  }
  if (m.contains("reply_address") &&
      !(m["reply_address"].is_object() && m["reply_address"].value("email", Json()).is_string() &&
        normalise_email(m["reply_address"]["email"].get<std::string>())))
    errors.push_back({"reply_address", "must be {\"email\": an e-mail address}"});
  if (m.contains("subject_window_days") && !subject_window_of(m))
    errors.push_back({"subject_window_days", "must be 0 to 365"});
  if (m.contains("occurred_at") && (!m["occurred_at"].is_string() || !parse_rfc3339(m["occurred_at"].get<std::string>())))
    errors.push_back({"occurred_at", "must be an RFC 3339 date-time"});
  Sender s = m.value("from", Json()).is_object() ? sender_of(m["from"], normalisation, errors)
                                                 : (errors.push_back({"from", "must be an object"}), Sender{});
  if (!errors.empty()) throw validation_error("invalid inbound message", errors);
  return s;
}

constexpr std::int32_t sender_lock_class = 0x6e754356;  // PostgreSQL advisory locks of senders ("nuCV")

struct Match {
  std::string contact_id, account_id, matched_by = "none";
  bool contact_live = false;  // the contact found is not archived
};

struct Found {
  Json config;  // the channel account's
  std::string plugin_id;
  Match sender;
};

// The match in columns entity_type, entity_id, account_id, live from `first` on.
Match match_at(const store::Row& r, std::size_t first) {
  Match m;
  auto type = store::text_at(r, first);
  if (!type) return m;
  m.matched_by = *type;
  if (m.matched_by == "contact") {
    m.contact_id = store::required_text(r, first + 1);
    m.account_id = store::text_at(r, first + 2).value_or("");
    m.contact_live = store::integer_at(r, first + 3).value_or(0) == 1;
  } else {
    m.account_id = store::required_text(r, first + 1);
  }
  return m;
}

// The channel account and the sender, in one statement: this runs for every message a
// channel receives. The sender is looked up on contacts first, then accounts, by any
// form of the address; the oldest record wins a tie. 404 for an account id that is not
// one of the tenant's.
Found find_sender(store::Transaction& tx, const std::string& tenant_id, const std::string& channel_account_id,
                  const Sender& s) {
  std::vector<std::string> values = s.kind == "phone" ? phone_variants(s.address) : std::vector<std::string>{s.address};
  std::vector<store::SqlValue> params{tenant_id, s.kind};
  std::string in = store::bound_list(values, params);
  std::string account = " WHERE ca.tenant_id = " + store::placeholder(params.size());
  params.push_back(tenant_id);
  account += " AND ca.id = " + store::placeholder(params.size());
  params.push_back(channel_account_id);
  std::optional<Found> found;
  store::query(tx.session(),
               "SELECT ca.config, ca.plugin_id, m.entity_type, m.entity_id, m.account_id, m.live FROM channel_accounts ca"
               " LEFT JOIN (SELECT cp.entity_type, cp.entity_id, c.account_id,"
               " CASE WHEN c.archived_at IS NULL THEN 1 ELSE 0 END AS live FROM contact_points cp"
               " LEFT JOIN contacts c ON cp.entity_type = 'contact' AND c.tenant_id = cp.tenant_id AND c.id = cp.entity_id"
               " WHERE cp.tenant_id = :p0 AND cp.kind = :p1 AND cp.value IN " +
                   in + " ORDER BY CASE cp.entity_type WHEN 'contact' THEN 0 ELSE 1 END, cp.entity_id LIMIT 1) m"
                        " ON 1 = 1" +
                   account,
               params, [&](const store::Row& r) {
                 found = Found{Json::parse(store::required_text(r, 0)), store::required_text(r, 1), match_at(r, 2)};
               });
  if (!found) throw Error(ErrorCode::not_found, "no channel account " + channel_account_id + " in this tenant");
  return *found;
}

// The earlier message an inbound one continues, found by the ids it names (an e-mail's
// In-Reply-To and References: ours first) or, failing those, by its subject among the
// sender's messages on this account within a window — "Re:", "RES:", "Fwd:" and "ENC:"
// (Portuguese clients) aside.
struct Thread {
  std::string thread_id, deal_id, contact_id, account_id, threaded_by;
};

std::string bare_subject(std::string s) {
  for (bool stripped = true; stripped;) {
    stripped = false;
    std::size_t start = s.find_first_not_of(" \t");
    s.erase(0, start == std::string::npos ? s.size() : start);
    std::size_t colon = s.find(':');
    if (colon == std::string::npos || colon > 4) break;
    std::string prefix = s.substr(0, colon);
    for (auto& c : prefix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (prefix == "re" || prefix == "res" || prefix == "fw" || prefix == "fwd" || prefix == "enc" || prefix == "tr") {
      s.erase(0, colon + 1);
      stripped = true;
    }
  }
  std::size_t end = s.find_last_not_of(" \t");
  return end == std::string::npos ? "" : s.substr(0, end + 1);
}

Thread thread_row(const store::Row& r) {
  Thread t;
  t.thread_id = store::text_at(r, 0).value_or(store::text_at(r, 1).value_or(""));
  t.deal_id = store::text_at(r, 2).value_or("");
  t.contact_id = store::text_at(r, 3).value_or("");
  t.account_id = store::text_at(r, 4).value_or("");
  return t;
}

std::optional<Thread> thread_by_reference(store::Transaction& tx, const std::string& tenant_id,
                                          const std::string& channel_account_id, const Json& references) {
  std::vector<std::string> ids;
  for (const auto& r : references) ids.push_back(r.get<std::string>());
  if (ids.empty()) return std::nullopt;
  std::map<std::string, Thread> found;
  auto thread_found = [&](const store::Row& r) { found[store::required_text(r, 1)] = thread_row(r); };
  if (tx.backend() == store::Backend::postgresql) {
    // One probe of interactions_external an id: an `external_id IN (…)` of a channel the
    // statistics have not seen yet (a new mailbox) reads the channel's every message
    // (WriteBatch::ask_external_ids, ADR 0030).
    store::query(tx.session(),
                 "SELECT i.* FROM unnest(CAST(:p0 AS text[])) AS w(external_id) CROSS JOIN LATERAL"
                 " (SELECT thread_id, external_id, deal_id, contact_id, account_id FROM interactions"
                 " WHERE tenant_id = :p1 AND channel = :p2 AND external_id = w.external_id LIMIT 1) AS i",
                 {store::text_array(ids), tenant_id, channel_account_id}, thread_found);
  } else {
    std::vector<store::SqlValue> params{tenant_id, channel_account_id};
    std::string in = store::bound_list(ids, params);
    store::query(tx.session(),
                 "SELECT thread_id, external_id, deal_id, contact_id, account_id FROM interactions"
                 " WHERE tenant_id = :p0 AND channel = :p1 AND external_id IN " + in,
                 params, thread_found);
  }
  for (const auto& id : ids)  // the message names the most relevant first
    if (auto it = found.find(id); it != found.end()) {
      it->second.threaded_by = "reference";
      return it->second;
    }
  return std::nullopt;
}

// A message of the sender's on the account, as threading by subject reads it.
struct Sent {
  Thread thread;
  std::string subject;
  std::int64_t occurred_at = 0;
};

const char* sent_columns = "thread_id, external_id, deal_id, contact_id, account_id, subject, occurred_at";
constexpr std::size_t subject_candidates = 50;  // the sender's latest messages a subject is looked for in

Sent sent_row(const store::Row& r) {
  return {thread_row(r), store::text_at(r, 5).value_or(""), store::integer_at(r, 6).value_or(0)};
}

// The latest of `newest_first` (the sender's latest messages, at most subject_candidates)
// with the subject wanted.
std::optional<Thread> on_subject(const std::vector<Sent>& newest_first, const std::string& wanted) {
  for (const Sent& m : newest_first)
    if (bare_subject(m.subject) == wanted) {
      Thread t = m.thread;
      t.threaded_by = "subject";
      return t;
    }
  return std::nullopt;
}

std::optional<Thread> thread_by_subject(store::Transaction& tx, const std::string& tenant_id,
                                        const std::string& channel_account_id, const std::string& contact_id,
                                        const std::string& subject, std::int64_t since) {
  std::string wanted = bare_subject(subject);
  if (wanted.empty() || contact_id.empty()) return std::nullopt;
  std::vector<Sent> newest_first;
  store::query(tx.session(),
               std::string("SELECT ") + sent_columns +
                   " FROM interactions WHERE contact_id = :p0 AND tenant_id = :p1 AND channel = :p2 AND occurred_at >= :p3"
                   " ORDER BY occurred_at DESC LIMIT " + std::to_string(subject_candidates),
               {contact_id, tenant_id, channel_account_id, since},
               [&](const store::Row& r) { newest_first.push_back(sent_row(r)); });
  return on_subject(newest_first, wanted);
}

// The senders of a batch's messages, each as find_sender would find her at the batch's
// start, and the channel account, asked once for the batch. Only matches are kept: a
// sender nobody matched is asked again when her message comes, as an earlier message of
// the batch may have made her a lead.
struct KnownSenders {
  Json config;
  std::string plugin_id;
  std::map<std::pair<std::string, std::string>, Match> matched;  // by (kind, address)

  std::optional<Found> find(const Sender& s) const {
    auto it = matched.find({s.kind, s.address});
    if (it == matched.end()) return std::nullopt;
    return Found{config, plugin_id, it->second};
  }
};

// PostgreSQL: one statement, a probe of contact_points a form of an address, the best
// match of each sender picked in the order find_sender's LIMIT 1 takes. SQLite asks
// sender by sender, in process. Nullopt when the account is not the tenant's (each
// message then answers 404 on its own).
std::optional<KnownSenders> find_senders(store::Transaction& tx, const std::string& tenant_id,
                                         const std::string& channel_account_id, const std::set<std::pair<std::string, std::string>>& senders) {
  std::optional<KnownSenders> known;
  store::query(tx.session(), "SELECT config, plugin_id FROM channel_accounts WHERE tenant_id = :p0 AND id = :p1",
               {tenant_id, channel_account_id}, [&](const store::Row& r) {
                 known = KnownSenders{Json::parse(store::required_text(r, 0)), store::required_text(r, 1), {}};
               });
  if (!known) return known;
  if (tx.backend() == store::Backend::sqlite) {
    for (const auto& [kind, address] : senders)
      if (Match m = find_sender(tx, tenant_id, channel_account_id, {kind, address, ""}).sender; m.matched_by != "none")
        known->matched[{kind, address}] = m;
    return known;
  }
  std::vector<std::string> kinds, addresses, values;
  for (const auto& [kind, address] : senders)
    for (const auto& value : kind == "phone" ? phone_variants(address) : std::vector<std::string>{address})
      kinds.push_back(kind), addresses.push_back(address), values.push_back(value);
  store::query(tx.session(),
               "SELECT DISTINCT ON (w.kind, w.address) w.kind, w.address, m.entity_type, m.entity_id, m.account_id, m.live"
               " FROM unnest(CAST(:p0 AS text[]), CAST(:p1 AS text[]), CAST(:p2 AS text[])) AS w(kind, address, value)"
               " CROSS JOIN LATERAL (SELECT cp.entity_type, cp.entity_id, c.account_id,"
               " CASE WHEN c.archived_at IS NULL THEN 1 ELSE 0 END AS live,"
               " CASE cp.entity_type WHEN 'contact' THEN 0 ELSE 1 END AS rank FROM contact_points cp"
               " LEFT JOIN contacts c ON cp.entity_type = 'contact' AND c.tenant_id = cp.tenant_id AND c.id = cp.entity_id"
               " WHERE cp.tenant_id = :p3 AND cp.kind = w.kind AND cp.value = w.value"
               " ORDER BY rank, cp.entity_id LIMIT 1) m"
               " ORDER BY w.kind, w.address, m.rank, m.entity_id",
               {store::text_array(kinds), store::text_array(addresses), store::text_array(values), tenant_id},
               [&](const store::Row& r) {
                 known->matched[{store::required_text(r, 0), store::required_text(r, 1)}] = match_at(r, 2);
               });
  return known;
}

// The latest messages of a batch's contacts that threading by subject reads (as
// thread_by_subject would, since the earliest time any message of the batch looks back
// to), asked once for the batch, and the batch's own messages added as they are logged.
// A contact not asked is asked of the database, message by message.
class KnownThreads {
 public:
  void ask(store::Transaction& tx, const std::string& tenant_id, const std::string& channel_account_id,
           const std::set<std::string>& contacts, std::int64_t since) {
    for (const auto& c : contacts) recent_[c];
    auto found = [&](const store::Row& r) {
      Sent m = sent_row(r);
      recent_[m.thread.contact_id].push_back(std::move(m));
    };
    const std::string latest = " ORDER BY occurred_at DESC LIMIT " + std::to_string(subject_candidates);
    if (tx.backend() == store::Backend::postgresql) {
      store::query(tx.session(),
                   std::string("SELECT i.* FROM unnest(CAST(:p0 AS text[])) AS w(contact_id) CROSS JOIN LATERAL (SELECT ") +
                       sent_columns +
                       " FROM interactions WHERE contact_id = w.contact_id AND tenant_id = :p1 AND channel = :p2"
                       " AND occurred_at >= :p3" + latest + ") AS i",
                   {store::text_array({contacts.begin(), contacts.end()}), tenant_id, channel_account_id, since}, found);
      return;
    }
    for (const auto& c : contacts)
      store::query(tx.session(),
                   std::string("SELECT ") + sent_columns +
                       " FROM interactions WHERE contact_id = :p0 AND tenant_id = :p1 AND channel = :p2 AND occurred_at >= :p3" +
                       latest,
                   {c, tenant_id, channel_account_id, since}, found);
  }

  bool asked(const std::string& contact_id) const { return recent_.count(contact_id) > 0; }

  // A message of the batch, logged: later ones of its contact may continue it.
  void logged(const Json& interaction) {
    auto it = recent_.find(interaction.value("contact_id", Json()).is_string() ? interaction["contact_id"].get<std::string>() : "");
    if (it == recent_.end()) return;
    auto text = [&](const char* field) { return interaction.value(field, Json()).is_string() ? interaction[field].get<std::string>() : ""; };
    Thread t{text("thread_id").empty() ? text("external_id") : text("thread_id"), text("deal_id"), text("contact_id"),
             text("account_id"), ""};
    it->second.push_back({t, text("subject"), parse_rfc3339(text("occurred_at")).value_or(Timestamp{0}).micros});
  }

  std::optional<Thread> by_subject(const std::string& contact_id, const std::string& subject, std::int64_t since) const {
    std::string wanted = bare_subject(subject);
    if (wanted.empty()) return std::nullopt;
    std::vector<Sent> newest_first;
    for (const Sent& m : recent_.at(contact_id))
      if (m.occurred_at >= since) newest_first.push_back(m);
    std::stable_sort(newest_first.begin(), newest_first.end(),
                     [](const Sent& a, const Sent& b) { return a.occurred_at > b.occurred_at; });
    if (newest_first.size() > subject_candidates) newest_first.resize(subject_candidates);
    return on_subject(newest_first, wanted);
  }

 private:
  std::map<std::string, std::vector<Sent>> recent_;  // by contact: asked ones only
};

// The account's one open deal the message belongs to: the only one naming the contact,
// else the account's only open deal. None when that is ambiguous.
std::string open_deal_of(RecordService& records, const CallContext& ctx, const Match& m) {
  if (m.account_id.empty()) return "";
  store::RecordQuery q;
  q.equals = {{"account_id", m.account_id}, {"status", "open"}};
  q.limit = 50;
  auto deals = records.list(ctx, "deal", q);
  std::vector<std::string> naming;
  for (const auto& d : deals)
    for (const auto& c : d.value("contacts", Json::array()))
      if (!m.contact_id.empty() && c.value("contact_id", "") == m.contact_id) naming.push_back(d["id"]);
  if (naming.size() == 1) return naming.front();
  if (naming.empty() && deals.size() == 1) return deals.front()["id"];
  return "";
}

std::optional<Json> already_received(RecordService& records, const CallContext& ctx, const std::string& account_id,
                                     const std::string& external_id) {
  store::RecordQuery q;
  q.equals = {{"channel", account_id}, {"external_id", external_id}};
  q.limit = 1;
  q.include_archived = true;
  auto found = records.list(ctx, "interaction", q);
  if (found.empty()) return std::nullopt;
  return found.front();
}

// How far a message has gone: a status only ever moves forward.
int progress_of(const std::string& status) {
  static const std::map<std::string, int> order{{"queued", 0}, {"sent", 1}, {"delivered", 2}, {"read", 3}, {"failed", 4}};
  auto it = order.find(status);
  return it == order.end() ? -1 : it->second;
}

// Whether a message at `now` may move to `reached`: forward only; "failed" only before
// it was delivered (a message read did not fail), and never out of "failed".
bool moves_forward(const std::string& now, const std::string& reached) {
  if (now == "failed") return false;
  if (reached == "failed") return progress_of(now) < 2;
  return progress_of(reached) > progress_of(now);
}

// The outbound message body a channel plugin's send gets as `content`.
Json outbound_content(const Json& body, const std::string& interaction_id, const Json& reply_to) {
  Json content = {{"interaction_id", interaction_id}};
  if (body.contains("text")) content["text"] = body["text"];
  if (body.contains("template")) content["template"] = body["template"];
  if (body.contains("document")) content["document"] = body["document"];
  for (const char* mail : {"subject", "html", "attachments"})
    if (body.contains(mail)) content[mail] = body[mail];
  if (!reply_to.is_null()) content["reply_to"] = reply_to;  // the channel's id of the message answered
  return content;
}

// Free text only while the contact's last message is younger than the channel's
// window (WhatsApp's customer-service window); a template may open a conversation.
// When the contact last wrote on the channel account (nothing: never).
std::optional<std::int64_t> last_inbound_at(ServiceDependencies& deps, const CallContext& ctx,
                                            const std::string& account_id, const std::string& contact_id) {
  std::optional<std::int64_t> last_inbound;
  deps.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    store::query(tx.session(),
                 "SELECT last_inbound_at FROM conversations WHERE tenant_id = :p0 AND channel_account_id = :p1"
                 " AND party = :p2",
                 {ctx.tenant_id, account_id, contact_id},
                 [&](const store::Row& r) { last_inbound = store::integer_at(r, 0); });
  });
  return last_inbound;
}

void refuse_outside_window(ServiceDependencies& deps, const CallContext& ctx, const std::string& account_id,
                           const std::string& contact_id, const ChannelTraits& traits) {
  std::optional<std::int64_t> last_inbound = last_inbound_at(deps, ctx, account_id, contact_id);
  std::int64_t window = std::int64_t{traits.reply_window_hours} * 3'600'000'000;
  if (last_inbound && *last_inbound + window > ctx.now().micros) return;
  std::string when = last_inbound ? "the contact last wrote at " + format_rfc3339(Timestamp{*last_inbound})
                                  : "the contact has not written on this channel";
  throw Error(ErrorCode::validation,
              "outside the " + std::to_string(traits.reply_window_hours) + "-hour reply window of this " + traits.kind +
                  " channel (" + when + "): free text is refused; send an approved template instead",
              {{"text", "outside the reply window: send a template", "outside_reply_window"}});
}

// A message goes out only on a legal basis (docs/compliance.md, "Consent"): for the
// purpose it names, the contact's consent ledger must grant it; a message naming none
// is a reply, and the contact must have written on this channel account (her request,
// LGPD art. 7 V). Anything else is refused, and the refusal audited.
void require_legal_basis(ServiceDependencies& deps, const CallContext& ctx, const std::string& account_id,
                         const std::string& contact_id, const Json& body) {
  ConsentService consents(deps);
  if (!body.contains("purpose")) {
    if (last_inbound_at(deps, ctx, account_id, contact_id).has_value()) return;
    consents.refuse_send(ctx, contact_id, "", account_id,
                         "contact " + contact_id + " has not written on channel account " + account_id +
                             ": a message that is not a reply names its \"purpose\", one the contact's consent "
                             "ledger grants");
  }
  const std::string purpose = body["purpose"];
  ConsentDecision decision = consents.allows(ctx, contact_id, purpose);
  if (decision.allowed) return;
  consents.refuse_send(ctx, contact_id, purpose, account_id,
                       decision.state == "none"
                           ? "contact " + contact_id + " has no legal basis recorded for purpose " + purpose +
                                 " (POST /v1/contacts/" + contact_id + "/consents records one)"
                           : "contact " + contact_id + " revoked purpose " + purpose + " (entry " + decision.entry_id +
                                 ")");
}

// Files sent with an e-mail: [{"name", "type", "content_base64"}], at most
// max_attachments, max_attachment_bytes decoded in all.
constexpr std::size_t max_attachments = 10;
constexpr std::size_t max_attachment_bytes = 5 * 1024 * 1024;

void check_attachments(const Json& files, std::vector<FieldError>& errors) {
  if (!files.is_array() || files.empty() || files.size() > max_attachments) {
    errors.push_back({"attachments", "must be 1 to 10 files: {\"name\", \"type\", \"content_base64\"}"});
    return;
  }
  static const std::regex media_type("^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$");
  std::size_t total = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::string at = "attachments/" + std::to_string(i);
    const Json& f = files[i];
    if (!f.is_object()) {
      errors.push_back({at, "must be {\"name\", \"type\", \"content_base64\"}"});
      continue;
    }
    for (const auto& [key, v] : f.items())
      if (key != "name" && key != "type" && key != "content_base64") errors.push_back({at + "/" + key, "is not a field of a file"});
    Json name = f.value("name", Json()), type = f.value("type", Json()), content = f.value("content_base64", Json());
    if (!name.is_string() || name.get<std::string>().empty() || name.get<std::string>().size() > 255 ||
        name.get<std::string>().find_first_of("\r\n\"/\\") != std::string::npos)
      errors.push_back({at + "/name", "must be a file name of 1 to 255 characters without / \\ \" or line breaks"});
    if (!type.is_string() || !std::regex_match(type.get<std::string>(), media_type))
      errors.push_back({at + "/type", "must be a media type such as application/pdf"});
    std::optional<std::string> bytes = content.is_string() ? from_base64(content.get<std::string>()) : std::nullopt;
    if (!bytes || bytes->empty()) errors.push_back({at + "/content_base64", "must be the file's bytes in base64"});
    else total += bytes->size();
  }
  if (total > max_attachment_bytes) errors.push_back({"attachments", "must be at most 5 MiB in all"});
}

// What the interaction keeps of the files sent: not their bytes (those go to the channel).
// A document the channel fetches from a link (WhatsApp's document message: a proposal's
// PDF at its public link), the text its caption: {"url", "filename"}.
void check_document(const Json& body, std::vector<FieldError>& errors) {
  const Json& d = body["document"];
  static const std::regex url("^https?://[^\\s\"<>]{1,2000}$");
  if (!d.is_object() || !d.value("url", Json()).is_string() || !std::regex_match(d["url"].get<std::string>(), url))
    return errors.push_back({"document/url", "must be the http(s) URL the channel fetches the file from"});
  for (const auto& [key, v] : d.items())
    if (key != "url" && key != "filename") errors.push_back({"document/" + key, "is not a field of a document"});
  const Json& name = d.value("filename", Json());
  if (!name.is_string() || name.get<std::string>().empty() || name.get<std::string>().size() > 255 ||
      name.get<std::string>().find_first_of("\r\n\"/\\") != std::string::npos)
    errors.push_back({"document/filename", "must be a file name of 1 to 255 characters without / \\ \" or line breaks"});
  if (!body.contains("text"))
    errors.push_back({"text", "is the document's caption: a document goes with a text, not a template"});
  else if (body["text"].is_string() && body["text"].get<std::string>().size() > 1024)
    errors.push_back({"text", "a document's caption is at most 1024 characters"});
}

Json attachments_described(const Json& files) {
  Json out = Json::array();
  for (const auto& f : files)
    out.push_back({{"name", f["name"]}, {"type", f["type"]}, {"size", from_base64(f["content_base64"].get<std::string>())->size()}});
  return out;
}

void check_send(const Json& body) {
  std::vector<FieldError> errors;
  if (!body.is_object()) throw Error(ErrorCode::validation, "a message is a JSON object", {{"", "must be an object"}});
  for (const auto& [key, v] : body.items())
    if (key != "channel_account_id" && key != "text" && key != "template" && key != "reply_to" && key != "deal_id" &&
        key != "subject" && key != "html" && key != "attachments" && key != "purpose" && key != "document")
      errors.push_back({key, "is not a field of a message (channel_account_id, text, template, subject, html, "
                             "attachments, document, reply_to, deal_id, purpose)"});
  if (!body.value("channel_account_id", Json()).is_string()) errors.push_back({"channel_account_id", "is required"});
  bool text = body.contains("text"), templ = body.contains("template");
  if (text == templ) errors.push_back({"text", "give the text, or a template, but one of them"});
  if (text && (!body["text"].is_string() || body["text"].get<std::string>().empty() ||
               body["text"].get<std::string>().size() > 100000))
    errors.push_back({"text", "must be 1 to 100,000 characters"});
  if (templ && (!body["template"].is_object() || !body["template"].value("name", Json()).is_string() ||
                !body["template"].value("language", Json()).is_string()))
    errors.push_back({"template", "must be {\"name\", \"language\", \"components\"?}"});
  for (const char* id : {"reply_to", "deal_id"})
    if (body.contains(id) && !body[id].is_string()) errors.push_back({id, "must be an id"});
  if (body.contains("purpose") && (!body["purpose"].is_string() || !is_purpose_key(body["purpose"])))
    errors.push_back({"purpose", "must be a purpose key (GET /v1/privacy/purposes)"});
  if (body.contains("subject") && (!body["subject"].is_string() || body["subject"].get<std::string>().size() > 500 ||
                                   body["subject"].get<std::string>().find_first_of("\r\n") != std::string::npos))
    errors.push_back({"subject", "must be one line of at most 500 characters"});
  if (body.contains("html") && (!body["html"].is_string() || body["html"].get<std::string>().size() > 100000 || !text))
    errors.push_back({"html", "must be at most 100,000 characters, beside the text (the plain alternative)"});
  if (body.contains("attachments")) check_attachments(body["attachments"], errors);
  if (body.contains("document")) check_document(body, errors);
  if (!errors.empty()) throw validation_error("invalid message", errors);
}

}  // namespace

std::vector<std::string> phone_variants(const std::string& e164) {
  std::vector<std::string> out{e164};
  if (e164.rfind("+55", 0) != 0) return out;
  std::string local = e164.substr(5);  // after +55 and the two-digit area code
  if (local.size() == 9 && local[0] == '9') out.push_back(e164.substr(0, 5) + local.substr(1));
  if (local.size() == 8 && local[0] >= '6') out.push_back(e164.substr(0, 5) + "9" + local);
  return out;
}

// Two messages from one sender handled at once (two job workers, a burst of webhooks)
// would each find no contact and create two leads: on PostgreSQL the second waits for
// the first's transaction and then finds its lead. SQLite writes one at a time anyway.
void ConversationService::serialise_sender(const CallContext& ctx, const std::string& address) {
  deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    if (tx.backend() == store::Backend::postgresql)
      store::query(tx.session(), "SELECT 1 FROM (SELECT pg_advisory_xact_lock(:p0, hashtext(:p1))) AS locked",
                   {sender_lock_class, ctx.tenant_id + "/" + address}, [](const store::Row&) {});
  });
}

struct ConversationService::ReceiveBatch {
  std::vector<Unfiled> unfiled;
  std::vector<std::size_t> filed_for;  // the answer each unfiled message belongs to
  std::optional<KnownSenders> senders;
  KnownThreads threads;
  std::optional<WriteBatch> interactions;
  std::optional<audit::SubjectKeyCache> subject_keys;
};

Json ConversationService::receive(const CallContext& ctx, const std::string& channel_account_id, const Json& message) {
  return receive_one(ctx, channel_account_id, message, nullptr);
}

Json ConversationService::receive_one(const CallContext& ctx, const std::string& channel_account_id,
                                      const Json& message, ReceiveBatch* batch) {
  Sender sender = checked(message, deps_.normalisation);
  std::string external_id = message["external_id"];
  // The first attempt leaves finding a redelivery to the interaction's own duplicate
  // rule (one statement fewer for every new message); its conflict retries with the look-up.
  auto attempt = [&](bool redelivery_likely) {
    return deps_.database.in_one_transaction(ctx.tenant_id, [&] {
      auto find = [&] {
        Found f = deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
          std::optional<Found> known = batch && batch->senders ? batch->senders->find(sender) : std::nullopt;
          Found found = known ? *known : find_sender(tx, ctx.tenant_id, channel_account_id, sender);
          // The interaction's reference to her is then checked without asking again; a
          // caller who sees only some contacts is answered record by record (write.cpp).
          if (WriteBatch* batch = WriteBatch::of(tx); batch && found.sender.matched_by == "contact" &&
                                                      !(ctx.principal && ctx.principal->restricted_to_owners))
            batch->learned_live("contact", found.sender.contact_id, found.sender.contact_live);
          return found;
        });
        // A plugin receives on its own accounts only.
        if (ctx.actor.type == "plugin" && f.plugin_id != ctx.actor.id)
          throw Error(ErrorCode::not_found, "no channel account " + channel_account_id + " of plugin " + ctx.actor.id);
        return f;
      };
      Found found = find();
      const Json& config = found.config;
      RecordService records(deps_);
      if (auto seen = redelivery_likely ? already_received(records, ctx, channel_account_id, external_id)
                                        : std::nullopt)
        return Json{{"interaction", *seen},
                    {"matched_by", (*seen)["contact_id"].is_null() ? "none" : "contact"},
                    {"duplicate", true},
                    {"conversation_id", conversation_of(ctx, (*seen)["id"])}};
      Match m = found.sender;
      if (m.matched_by == "none") {
        serialise_sender(ctx, sender.address);  // then look again: the one we waited for may have made her lead
        m = find().sender;
      }
      // The Reply-To when the From is nobody known, then the thread's own contact.
      if (m.matched_by == "none" && message.contains("reply_address")) {
        Sender reply{"email", *normalise_email(message["reply_address"]["email"].get<std::string>()), sender.name};
        m = deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
              return find_sender(tx, ctx.tenant_id, channel_account_id, reply);
            }).sender;
      }
      std::optional<Thread> thread = deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
        return thread_by_reference(tx, ctx.tenant_id, channel_account_id, message.value("references", Json::array()));
      });
      if (m.matched_by == "none" && thread && !thread->contact_id.empty())
        m = {thread->contact_id, thread->account_id, "thread"};
      bool keep_unknown = config.value("unknown_senders", "lead") == "keep";
      if (m.matched_by == "none" && !keep_unknown) {
        Json lead = {{"name", sender.name.empty() ? sender.address : sender.name}, {sender.kind, sender.address}};
        m = {records.create(ctx, "contact", lead).record["id"], "", "new_lead"};
      }
      std::int64_t window_days = subject_window_of(message).value_or(0);  // checked above
      if (!thread && window_days > 0 && message.value("subject", Json()).is_string()) {
        std::int64_t since = ctx.now().micros - window_days * 86'400'000'000;
        thread = batch && batch->threads.asked(m.contact_id)
                     ? batch->threads.by_subject(m.contact_id, message["subject"], since)
                     : deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
                         return thread_by_subject(tx, ctx.tenant_id, channel_account_id, m.contact_id,
                                                  message["subject"], since);
                       });
      }
      std::string deal_id = thread && !thread->deal_id.empty() ? thread->deal_id : open_deal_of(records, ctx, m);
      Json input = {{"type", message["type"]},
                    {"direction", "inbound"},
                    {"channel", channel_account_id},
                    {"external_id", external_id},
                    {"delivery_status", "received"},
                    {"occurred_at", message.value("occurred_at", format_rfc3339(ctx.now()))},
                    {"contact_id", m.contact_id.empty() ? Json() : Json(m.contact_id)},
                    {"account_id", m.account_id.empty() ? Json() : Json(m.account_id)},
                    {"deal_id", deal_id.empty() ? Json() : Json(deal_id)}};
      for (const char* field : {"subject", "thread_id", "content"})
        if (message.contains(field)) input[field] = message[field];
      if (message.contains("text")) input["body"] = message["text"];
      if (thread && !thread->thread_id.empty()) input["thread_id"] = thread->thread_id;
      Json interaction = records.log_interaction(ctx, input).record;
      std::string address = m.contact_id.empty() ? sender.address : "";
      Json conversation;  // null until the batch files it
      if (batch) {
        batch->unfiled.push_back({interaction, address});
        batch->threads.logged(interaction);
      } else
        conversation = thread_message(ctx, channel_account_id, interaction, address);
      return Json{{"interaction", interaction},
                  {"matched_by", m.matched_by},
                  {"duplicate", false},
                  {"conversation_id", conversation},
                  {"threaded_by", thread ? Json(thread->threaded_by) : Json()}};
    });
  };
  try {
    return attempt(false);
  } catch (const Error& e) {
    // Delivered again (now or meanwhile): the first delivery's interaction holds the external id.
    if (e.code() != ErrorCode::aborted && e.code() != ErrorCode::conflict) throw;
    return attempt(true);
  }
}

// What each message of a batch would ask on its own, asked once (ADR 0030): whether it
// was received before, who sent it, the senders' latest messages that a subject threads
// onto and the keys that seal their personal values in the audit trail. A message the
// answers do not cover (a sender nobody matched, a lead made by the batch) asks as before.
void ConversationService::ask_for_batch(const CallContext& ctx, store::Transaction& tx,
                                        const std::string& channel_account_id, const Json& messages,
                                        ReceiveBatch& batch) {
  std::vector<Json> creates;
  std::set<std::pair<std::string, std::string>> senders;
  std::int64_t window_days = 0;
  for (const auto& m : messages) {
    if (!m.is_object()) continue;
    if (m.value("external_id", Json()).is_string())
      creates.push_back({{"channel", channel_account_id}, {"external_id", m["external_id"]}});
    std::vector<FieldError> errors;
    if (m.value("from", Json()).is_object())
      if (Sender s = sender_of(m["from"], deps_.normalisation, errors); errors.empty()) senders.insert({s.kind, s.address});
    window_days = std::max(window_days, subject_window_of(m).value_or(0));  // an invalid one fails its message
  }
  batch.interactions.emplace(tx, ctx, entity_spec("interaction"), deps_.normalisation, creates);
  batch.senders = find_senders(tx, ctx.tenant_id, channel_account_id, senders);
  if (!batch.senders) return;
  std::set<std::string> contacts;
  for (const auto& [address, match] : batch.senders->matched)
    if (match.matched_by == "contact") contacts.insert(match.contact_id);
  if (contacts.empty()) return;
  // The interactions' data subject is their contact (audit::seal_personal_values).
  batch.subject_keys.emplace(tx, ctx.tenant_id, contacts);
  if (window_days > 0)
    batch.threads.ask(tx, ctx.tenant_id, channel_account_id, contacts,
                      ctx.now().micros - window_days * 86'400'000'000);
}

std::vector<Json> ConversationService::receive_many(const CallContext& ctx, const std::string& channel_account_id,
                                                   const Json& messages) {
  if (!messages.is_array() || messages.empty() || messages.size() > max_batch)
    throw Error(ErrorCode::validation, "messages must hold 1 to " + std::to_string(max_batch) + " messages",
                {{"messages", "must be an array of 1 to " + std::to_string(max_batch) + " messages"}});
  // One sender's messages in their order, senders in the order of their addresses: two
  // batches running at once then take their senders' locks in the same order (no deadlock).
  std::vector<std::size_t> order(messages.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  auto address = [&](std::size_t i) { return messages[i].is_object() ? messages[i].value("from", Json()).dump() : ""; };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return address(a) < address(b); });
  std::vector<Json> answers(messages.size());
  try {
    deps_.database.in_one_transaction(ctx.tenant_id, [&] {
      ReceiveBatch batch;
      deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) { ask_for_batch(ctx, tx, channel_account_id, messages, batch); });
      for (std::size_t i : order) {
        std::size_t before = batch.unfiled.size();
        answers[i] = receive_one(ctx, channel_account_id, messages[i], &batch);
        if (batch.unfiled.size() > before) batch.filed_for.push_back(i);
      }
      // The batch's conversations are written last, together: each conversation row is
      // then locked only from there to the commit, not from a sender's first message on —
      // batches running at once (a mailbox read on several connections) share senders,
      // and waited for each other's whole batch.
      std::vector<std::string> conversations =
          batch.unfiled.empty() ? std::vector<std::string>{} : thread_messages(ctx, channel_account_id, batch.unfiled);
      for (std::size_t k = 0; k < conversations.size(); ++k) answers[batch.filed_for[k]]["conversation_id"] = conversations[k];
      // A message delivered twice in one batch: the first delivery's conversation.
      for (auto& answer : answers)
        if (answer["conversation_id"].is_null() && answer.value("duplicate", false))
          answer["conversation_id"] = conversation_of(ctx, answer["interaction"]["id"]);
    });
    return answers;
  } catch (const Error&) {
  }
  for (std::size_t i : order) {
    try {
      answers[i] = receive(ctx, channel_account_id, messages[i]);
    } catch (const Error& e) {
      answers[i] = {{"error", {{"code", std::string(to_string(e.code()))}, {"message", e.what()}}}};
    }
  }
  return answers;
}

}  // namespace nucleo::services

namespace nucleo::services {

Json ConversationService::send(const CallContext& ctx, events::JobQueue& jobs, const std::string& contact_id,
                               const Json& body, const ChannelKinds& traits_of) {
  RecordService records(deps_);
  Json contact = records.get(ctx, "contact", contact_id);  // 404 unless the caller sees her, before any 422
  check_send(body);
  std::string account_id = body["channel_account_id"];
  // Senders need not read channel accounts (admin's): only which plugin serves this one.
  std::string plugin_id, account_status;
  deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    store::query(tx.session(), "SELECT plugin_id, status FROM channel_accounts WHERE tenant_id = :p0 AND id = :p1",
                 {ctx.tenant_id, account_id}, [&](const store::Row& r) {
                   plugin_id = store::required_text(r, 0);
                   account_status = store::required_text(r, 1);
                 });
  });
  if (plugin_id.empty()) throw Error(ErrorCode::not_found, "channel account " + account_id + " not found");
  if (account_status != "active") throw Error(ErrorCode::conflict, "channel account " + account_id + " is disabled");
  ChannelTraits traits = traits_of ? traits_of(plugin_id) : ChannelTraits{};
  const std::string& type = traits.kind;
  // WhatsApp and SMS carry 4,096 characters at most; an e-mail, what an interaction holds.
  if (type != "email" && body.value("text", Json("")).get<std::string>().size() > 4096)
    throw Error(ErrorCode::validation, "a " + type + " message carries at most 4096 characters",
                {{"text", "must be at most 4096 characters on a " + type + " channel"}});
  for (const char* mail : {"subject", "html", "attachments"})
    if (body.contains(mail) && type != "email")
      throw Error(ErrorCode::validation, std::string("only e-mail messages have a ") + mail,
                  {{mail, "only e-mail messages have one; this is a " + (type.empty() ? "channel" : type) + " account"}});
  if (body.contains("document") && type != "whatsapp")
    throw Error(ErrorCode::validation, "only WhatsApp messages carry a document by link",
                {{"document", "only WhatsApp messages carry one; e-mail takes attachments"}});
  if (!channel_types.count(type))
    throw Error(ErrorCode::conflict, "plugin " + plugin_id + " offers no whatsapp, email or sms channel on this node");
  std::string address_field = type == "email" ? "email" : "phone";
  if (!contact.value(address_field, Json()).is_string())
    throw Error(ErrorCode::validation, "contact " + contact_id + " has no " + address_field + " to send a " + type + " to",
                {{"contact_id", "has no " + address_field, "no_address"}});
  ChannelAccountService channels(deps_);
  // The channel's id of the message answered: the interaction replied to must be this
  // contact's, on this channel account.
  Json reply_to;
  if (body.contains("reply_to")) {
    Json answered = records.get(ctx, "interaction", body["reply_to"]);
    if (answered["contact_id"] != contact["id"] || answered["channel"] != account_id ||
        !answered["external_id"].is_string())
      throw Error(ErrorCode::validation, "reply_to must be a message of this contact on this channel account",
                  {{"reply_to", "is not this conversation's message"}});
    reply_to = answered["external_id"];
  }
  Match m{contact_id, contact.value("account_id", Json()).is_string() ? contact["account_id"].get<std::string>() : "",
          "contact"};
  std::string deal_id = body.contains("deal_id") ? body["deal_id"].get<std::string>() : open_deal_of(records, ctx, m);
  Json input = {{"type", type},
                {"direction", "outbound"},
                {"channel", account_id},
                {"delivery_status", "queued"},
                {"contact_id", contact_id},
                {"account_id", m.account_id.empty() ? Json() : Json(m.account_id)},
                {"deal_id", deal_id.empty() ? Json() : Json(deal_id)},
                {"content", body.contains("template") ? Json{{"kind", "template"}, {"template", body["template"]}}
                                                      : Json{{"kind", "text"}}}};
  if (body.contains("text")) input["body"] = body["text"];
  if (body.contains("subject")) input["subject"] = body["subject"];
  if (body.contains("html")) input["content"]["html"] = body["html"];  // personal: sealed and erased as the body is
  if (body.contains("attachments")) input["content"]["attachments"] = attachments_described(body["attachments"]);
  // The link stays with the channel message: it opens the document to whoever holds it.
  if (body.contains("document")) input["content"] = {{"kind", "document"}, {"filename", body["document"]["filename"]}};
  if (body.contains("text") && traits.reply_window_hours > 0) refuse_outside_window(deps_, ctx, account_id, contact_id, traits);
  require_legal_basis(deps_, ctx, account_id, contact_id, body);
  Json interaction = deps_.database.in_one_transaction(ctx.tenant_id, [&] {
    Json logged = records.log_interaction(ctx, input).record;
    thread_message(ctx, account_id, logged, "");
    return logged;
  });
  try {
    // An e-mail's content holds its text, HTML and files: larger than a raw channel message.
    Json content = outbound_content(body, interaction["id"], reply_to);
    // An e-mail sent for a purpose carries the link that revokes it in one click (RFC 8058).
    if (type == "email" && body.contains("purpose") && !deps_.public_url.empty())
      content["unsubscribe_url"] = deps_.public_url + "/v1/privacy/unsubscribe/" +
                                   unsubscribe_token(deps_.secrets, {ctx.tenant_id, contact_id, body["purpose"]});
    channels.send(ctx, jobs, account_id, {{"to", contact[address_field]}, {"content", content}},
                  type == "email" ? 8 * 1024 * 1024 : 64 * 1024);
  } catch (const Error& e) {
    settle_outbound(ctx, interaction["id"], "failed", {{"error", e.what()}});
    throw;
  }
  return interaction;
}

void ConversationService::settle_outbound(const CallContext& ctx, const std::string& interaction_id,
                                          const std::string& status, const Json& outcome) {
  RecordService records(deps_);
  Json interaction = records.get(ctx, "interaction", interaction_id);
  Json patch = Json::object();
  // A channel's own word for "taken" ("accepted") is sent; delivered and read are kept.
  std::string said = outcome.value("delivery_status", Json("")).is_string() ? outcome.value("delivery_status", "") : "";
  std::string reached = status == "failed" ? "failed" : progress_of(said) >= 1 ? said : "sent";
  if (moves_forward(interaction.value("delivery_status", "queued"), reached)) patch["delivery_status"] = reached;
  if (outcome.value("external_id", Json()).is_string() && interaction["external_id"].is_null())
    patch["external_id"] = outcome["external_id"];
  if (status == "failed") {
    Json content = interaction.value("content", Json::object());
    content["error"] = outcome.value("error", Json("the channel refused the message"));
    patch["content"] = content;
  }
  if (!patch.empty()) records.update(ctx, "interaction", interaction_id, patch);
}

Json ConversationService::record_status(const CallContext& ctx, const std::string& channel_account_id,
                                        const Json& status) {
  std::string reached = status.value("status", "");
  if (!status.value("external_id", Json()).is_string() || progress_of(reached) < 1)
    throw validation_error("invalid status", {{"status", "must be {\"external_id\", \"status\": sent | delivered | read | failed}"}});
  if (ctx.actor.type == "plugin") {  // a plugin reports on its own accounts only
    std::string plugin_id;
    deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
      store::query(tx.session(), "SELECT plugin_id FROM channel_accounts WHERE tenant_id = :p0 AND id = :p1",
                   {ctx.tenant_id, channel_account_id}, [&](const store::Row& r) { plugin_id = store::required_text(r, 0); });
    });
    if (plugin_id != ctx.actor.id)
      throw Error(ErrorCode::not_found, "no channel account " + channel_account_id + " of plugin " + ctx.actor.id);
  }
  RecordService records(deps_);
  auto found = already_received(records, ctx, channel_account_id, status["external_id"]);
  if (!found) throw Error(ErrorCode::not_found, "no message " + status["external_id"].get<std::string>() +
                                                    " on channel account " + channel_account_id);
  Json patch = Json::object();
  std::string now = found->value("delivery_status", "queued");
  // Statuses are of messages we sent: a received message's stays "received".
  if (found->value("direction", "") != "outbound" || !moves_forward(now, reached)) return *found;
  patch["delivery_status"] = reached;
  if (reached == "failed") {
    Json content = found->value("content", Json::object());
    content["error"] = status.value("error", Json("the channel reported a failure"));
    patch["content"] = content;
  }
  return records.update(ctx, "interaction", (*found)["id"], patch).record;
}

}  // namespace nucleo::services
