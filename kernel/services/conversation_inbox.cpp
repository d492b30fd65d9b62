// The unified inbox (docs/channels.md, "The unified inbox"): conversations are kept in
// the transaction of each message ConversationService records, and read here.
#include <algorithm>
#include <map>

#include "kernel/domain/id.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/change.hpp"
#include "kernel/services/conversation_service.hpp"
#include "kernel/services/principal.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

using store::integer_at;
using store::text_at;

constexpr std::size_t preview_bytes = 200;

struct Row {
  std::string id, channel_account_id, type, last_message_id, last_direction;
  std::optional<std::string> contact_id, address;
  std::int64_t last_message_at = 0, unread_count = 0, version = 1;
  std::optional<std::int64_t> last_inbound_at, read_at, answered_at;
  bool awaiting_reply = false;
  std::int64_t created_at = 0, updated_at = 0;
};

const char* row_columns =
    "cv.id, cv.channel_account_id, cv.type, cv.contact_id, cv.address, cv.last_message_id, cv.last_message_at,"
    " cv.last_direction, cv.last_inbound_at, cv.unread_count, cv.awaiting_reply, cv.read_at, cv.answered_at,"
    " cv.version, cv.created_at, cv.updated_at";

Row row_of(const store::Row& r) {
  Row o;
  o.id = store::required_text(r, 0);
  o.channel_account_id = store::required_text(r, 1);
  o.type = store::required_text(r, 2);
  o.contact_id = text_at(r, 3);
  o.address = text_at(r, 4);
  o.last_message_id = store::required_text(r, 5);
  o.last_message_at = store::required_integer(r, 6);
  o.last_direction = store::required_text(r, 7);
  o.last_inbound_at = integer_at(r, 8);
  o.unread_count = store::required_integer(r, 9);
  o.awaiting_reply = store::required_integer(r, 10) != 0;
  o.read_at = integer_at(r, 11);
  o.answered_at = integer_at(r, 12);
  o.version = store::required_integer(r, 13);
  o.created_at = store::required_integer(r, 14);
  o.updated_at = store::required_integer(r, 15);
  return o;
}

Json time_or_null(const std::optional<std::int64_t>& micros) {
  return micros ? Json(format_rfc3339(Timestamp{*micros})) : Json();
}

// At most `preview_bytes` of the text, cut on a character boundary.
std::string preview_of(const std::string& text) {
  if (text.size() <= preview_bytes) return text;
  std::size_t end = preview_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + "…";
}

// A row joined with its contact and last message, as the inbox shows it.
struct Listed {
  Row row;
  std::optional<std::string> contact_name, owner_id, body, delivery_status, content;
};

const std::string listed_select = std::string("SELECT ") + row_columns +
                                  ", c.name, c.owner_id, i.body, i.delivery_status, i.content"
                                  " FROM conversations cv"
                                  " LEFT JOIN contacts c ON c.tenant_id = cv.tenant_id AND c.id = cv.contact_id"
                                  " LEFT JOIN interactions i ON i.tenant_id = cv.tenant_id AND i.id = cv.last_message_id";

Listed listed_of(const store::Row& r) {
  return {row_of(r), text_at(r, 16), text_at(r, 17), text_at(r, 18), text_at(r, 19), text_at(r, 20)};
}

Json window_of(const Row& row, const ChannelTraits& traits, Timestamp now) {
  if (traits.reply_window_hours <= 0) return nullptr;
  std::optional<std::int64_t> expires;
  if (row.last_inbound_at) expires = *row.last_inbound_at + std::int64_t{traits.reply_window_hours} * 3'600'000'000;
  return {{"hours", traits.reply_window_hours},
          {"open", expires && *expires > now.micros},
          {"expires_at", time_or_null(expires)}};
}

Json conversation_json(const std::string& tenant_id, const Listed& l, const ChannelTraits& traits, Timestamp now) {
  const Row& r = l.row;
  Json content = l.content ? Json::parse(*l.content, nullptr, false) : Json();
  Json last = {{"id", r.last_message_id},
               {"direction", r.last_direction},
               {"occurred_at", format_rfc3339(Timestamp{r.last_message_at})},
               {"kind", content.is_object() ? content.value("kind", Json()) : Json()},
               {"preview", l.body ? Json(preview_of(*l.body)) : Json()},
               {"delivery_status", l.delivery_status ? Json(*l.delivery_status) : Json()}};
  return {{"id", r.id},
          {"tenant_id", tenant_id},
          {"channel_account_id", r.channel_account_id},
          {"type", r.type},
          {"contact_id", r.contact_id ? Json(*r.contact_id) : Json()},
          {"contact_name", l.contact_name ? Json(*l.contact_name) : Json()},
          {"address", r.address ? Json(*r.address) : Json()},
          {"owner_id", l.owner_id ? Json(*l.owner_id) : Json()},
          {"last_message", last},
          {"last_inbound_at", time_or_null(r.last_inbound_at)},
          {"unread_count", r.unread_count},
          {"unread", r.unread_count > 0},
          {"unanswered", r.awaiting_reply},
          {"read_at", time_or_null(r.read_at)},
          {"answered_at", time_or_null(r.answered_at)},
          {"reply_window", window_of(r, traits, now)},
          {"version", r.version},
          {"created_at", format_rfc3339(Timestamp{r.created_at})},
          {"updated_at", format_rfc3339(Timestamp{r.updated_at})}};
}

// Conversations are read by whoever may read contacts and interactions; a rep bound to
// owners sees the conversations of contacts they see (and those on no contact).
void require_inbox_read(const CallContext& ctx) {
  require_permission(ctx, entity_spec("contact"), Operation::read);
  require_permission(ctx, entity_spec("interaction"), Operation::read);
}

std::optional<Listed> find_listed(store::Transaction& tx, const CallContext& ctx, const std::string& id) {
  std::vector<store::SqlValue> params{ctx.tenant_id, id};
  std::string sql = listed_select + " WHERE cv.tenant_id = :p0 AND cv.id = :p1" + visible_owners_condition(ctx, "c.owner_id", params);
  std::optional<Listed> found;
  store::query(tx.session(), sql, params, [&](const store::Row& r) { found = listed_of(r); });
  return found;
}

ChannelTraits traits_for(const ConversationService::ChannelKinds& traits_of, store::Transaction& tx,
                         const std::string& tenant_id, const std::string& account_id) {
  if (!traits_of) return {};
  std::string plugin_id;
  store::query(tx.session(), "SELECT plugin_id FROM channel_accounts WHERE tenant_id = :p0 AND id = :p1",
               {tenant_id, account_id}, [&](const store::Row& r) { plugin_id = store::required_text(r, 0); });
  return plugin_id.empty() ? ChannelTraits{} : traits_of(plugin_id);
}

// "<µs>:<id>" → the keyset position; a malformed one is the client's mistake.
std::pair<std::int64_t, std::string> position_of(const std::string& after) {
  auto colon = after.find(':');
  try {
    if (colon != std::string::npos) return {std::stoll(after.substr(0, colon)), after.substr(colon + 1)};
  } catch (const std::exception&) {
  }
  throw Error(ErrorCode::validation, "the cursor is not one this server gave", {{"cursor", "is malformed"}});
}

}  // namespace

Json ConversationService::conversation_of(const CallContext& ctx, const std::string& interaction_id) {
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    Json id;
    store::query(tx.session(), "SELECT conversation_id FROM interactions WHERE tenant_id = :p0 AND id = :p1",
                 {ctx.tenant_id, interaction_id}, [&](const store::Row& r) {
                   if (auto c = text_at(r, 0)) id = *c;
                 });
    return id;
  });
}

std::string ConversationService::thread_message(const CallContext& ctx, const std::string& channel_account_id,
                                                const Json& interaction, const std::string& address) {
  return thread_messages(ctx, channel_account_id, {{interaction, address}}).front();
}

namespace {

// A party's messages of one filing, counted together as the conversation takes them.
struct PartyMessages {
  std::string contact_id, address, type;
  std::string last_id;  // the latest message (a later one of the same time wins, as it would one by one)
  std::int64_t last_at = 0;
  std::int64_t inbound = 0, last_inbound_at = 0;
};

}  // namespace

// One upsert a party, its first message or not: an insert that, when the party's
// conversation is there (the unique index conversations_party, the arbiter), updates it
// instead — the last message moving only for a message at least as recent (one delivered
// late counts but does not become the last). The unique index itself finds the row, so no
// planner chooses how: an UPDATE by party once read every conversation of the channel
// account per message, through conversations_by_account, chosen while the table's
// statistics were still those of an empty table (a new mailbox's first sync). Parties go
// in the order of their keys, so two filings at once lock their rows in the same order.
std::vector<std::string> ConversationService::thread_messages(const CallContext& ctx,
                                                              const std::string& channel_account_id,
                                                              const std::vector<Unfiled>& messages) {
  if (messages.empty()) return {};
  const bool inbound = messages.front().interaction["direction"] == "inbound";
  std::map<std::string, PartyMessages> parties;
  std::vector<std::string> party_of;
  for (const auto& [interaction, address] : messages) {
    if ((interaction["direction"] == "inbound") != inbound)
      throw Error(ErrorCode::internal, "messages filed together share a direction");
    const bool named = interaction["contact_id"].is_string();
    std::string party = named ? interaction["contact_id"].get<std::string>() : address;
    std::int64_t at = parse_rfc3339(interaction.value("occurred_at", "")).value_or(ctx.now()).micros;
    PartyMessages& p = parties[party];
    if (p.last_id.empty() || at >= p.last_at) {
      p.last_id = interaction["id"];
      p.last_at = at;
    }
    if (inbound) {
      ++p.inbound;
      p.last_inbound_at = std::max(p.last_inbound_at, at);
    }
    p.contact_id = named ? party : "";
    p.address = address;
    p.type = interaction["type"];
    party_of.push_back(std::move(party));
  }
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    const std::string& tenant = ctx.tenant_id;
    const std::int64_t now = ctx.now().micros;
    auto if_latest = [](const std::string& column) {
      return column + " = CASE WHEN excluded.last_message_at >= conversations.last_message_at THEN excluded." + column +
             " ELSE conversations." + column + " END, ";
    };
    std::string on_conflict =
        " ON CONFLICT (tenant_id, channel_account_id, party) DO UPDATE SET " + if_latest("last_message_id") +
        if_latest("last_direction") + if_latest("last_message_at") +
        (inbound ? "last_inbound_at = CASE WHEN conversations.last_inbound_at IS NULL"
                   " OR conversations.last_inbound_at < excluded.last_inbound_at THEN excluded.last_inbound_at"
                   " ELSE conversations.last_inbound_at END,"
                   " unread_count = conversations.unread_count + excluded.unread_count, awaiting_reply = 1"
                 : "unread_count = 0, awaiting_reply = 0") +  // writing to the contact answers what she wrote
        ", version = conversations.version + 1, updated_at = excluded.updated_at RETURNING party, id";
    const std::size_t per_statement = tx.backend() == store::Backend::sqlite ? 8 : 64;  // ~128 values on SQLite
    std::map<std::string, std::string> conversation_of_party;
    for (auto next = parties.begin(); next != parties.end();) {
      std::string sql =
          "INSERT INTO conversations (id, tenant_id, channel_account_id, type, contact_id, address, party,"
          " last_message_id, last_message_at, last_direction, last_inbound_at, unread_count, awaiting_reply,"
          " version, created_at, updated_at) VALUES ";
      std::vector<store::SqlValue> values;
      for (std::size_t n = 0; n < per_statement && next != parties.end(); ++n, ++next) {
        const auto& [party, p] = *next;
        sql += n ? ", (" : "(";
        for (std::size_t column = 0; column < 15; ++column) {
          sql += (column ? ", " : "") + store::placeholder(values.size() + column);
          if (column == 12) sql += ", 1";  // version
        }
        sql += ")";
        values.insert(values.end(),
                      {generate_id(id_prefix::conversation, ctx.now()), tenant, channel_account_id, p.type,
                       p.contact_id.empty() ? store::SqlValue{} : store::SqlValue{p.contact_id},
                       p.address.empty() ? store::SqlValue{} : store::SqlValue{p.address}, party, p.last_id, p.last_at,
                       std::string(inbound ? "inbound" : "outbound"),
                       inbound ? store::SqlValue{p.last_inbound_at} : store::SqlValue{}, p.inbound,
                       std::int64_t{inbound ? 1 : 0}, now, now});
      }
      store::query(tx.session(), sql + on_conflict, values, [&](const store::Row& r) {
        conversation_of_party[store::required_text(r, 0)] = store::required_text(r, 1);
      });
    }
    std::vector<std::string> filed_under;
    for (const auto& party : party_of) filed_under.push_back(conversation_of_party.at(party));
    // The messages' conversation ids. PostgreSQL: one statement, a probe of the primary key
    // per message — an `id IN (…)` beside `tenant_id = …` was planned, under the statistics
    // of a table analysed while empty, as a bitmap of the tenant's every interaction (60 ms
    // for 64 messages among 200,000). SQLite: a CASE over their ids per statement.
    if (tx.backend() == store::Backend::postgresql) {
      std::vector<std::string> ids;
      for (const auto& m : messages) ids.push_back(m.interaction["id"]);
      store::execute(tx.session(),
                     "UPDATE interactions i SET conversation_id = w.conversation_id"
                     " FROM unnest(CAST(:p0 AS text[]), CAST(:p1 AS text[])) AS w(id, conversation_id)"
                     " WHERE i.id = w.id AND i.tenant_id = :p2",
                     {store::text_array(ids), store::text_array(filed_under), tenant});
      return filed_under;
    }
    constexpr std::size_t messages_per_statement = 40;  // ~120 values
    for (std::size_t first = 0; first < messages.size(); first += messages_per_statement) {
      std::size_t last = std::min(messages.size(), first + messages_per_statement);
      std::vector<store::SqlValue> values;  // in the order their placeholders appear (ADR 0001)
      std::string cases, ids;
      for (std::size_t i = first; i < last; ++i) {
        cases += " WHEN " + store::placeholder(values.size()) + " THEN " + store::placeholder(values.size() + 1);
        values.insert(values.end(), {messages[i].interaction["id"].get<std::string>(), filed_under[i]});
      }
      for (std::size_t i = first; i < last; ++i) {
        ids += (i > first ? ", " : "") + store::placeholder(values.size());
        values.push_back(messages[i].interaction["id"].get<std::string>());
      }
      std::string tenant_is = store::placeholder(values.size());
      values.push_back(tenant);
      store::execute(tx.session(),
                     "UPDATE interactions SET conversation_id = CASE id" + cases + " END WHERE id IN (" + ids +
                         ") AND tenant_id = " + tenant_is,
                     values);
    }
    return filed_under;
  });
}

ConversationPage ConversationService::inbox(const CallContext& ctx, const InboxQuery& q, const ChannelKinds& traits_of) {
  require_inbox_read(ctx);
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    std::vector<store::SqlValue> params{ctx.tenant_id};
    std::string where = " WHERE cv.tenant_id = :p0";
    auto add = [&](const std::string& condition, store::SqlValue value) {
      std::string p = store::placeholder(params.size());
      params.push_back(std::move(value));
      where += " AND " + condition + p;
    };
    if (!q.channel.empty()) add(q.channel.rfind("chn_", 0) == 0 ? "cv.channel_account_id = " : "cv.type = ", q.channel);
    if (!q.contact_id.empty()) add("cv.contact_id = ", q.contact_id);
    if (!q.owner_id.empty()) add("c.owner_id = ", q.owner_id);
    if (q.unanswered_only) where += " AND cv.awaiting_reply = 1";
    if (!q.after.empty()) {
      auto [at, id] = position_of(q.after);
      std::string a = store::placeholder(params.size()), b = store::placeholder(params.size() + 1),
                  c = store::placeholder(params.size() + 2);
      params.insert(params.end(), {at, at, id});
      where += " AND (cv.last_message_at < " + a + " OR (cv.last_message_at = " + b + " AND cv.id < " + c + "))";
    }
    where += visible_owners_condition(ctx, "c.owner_id", params);
    std::vector<Listed> rows;
    store::query(tx.session(),
                 listed_select + where + " ORDER BY cv.last_message_at DESC, cv.id DESC LIMIT " +
                     std::to_string(q.limit + 1),
                 params, [&](const store::Row& r) { rows.push_back(listed_of(r)); });
    ConversationPage page;
    std::map<std::string, ChannelTraits> traits;
    for (std::size_t i = 0; i < rows.size() && i < q.limit; ++i) {
      const Row& r = rows[i].row;
      if (!traits.count(r.channel_account_id))
        traits[r.channel_account_id] = traits_for(traits_of, tx, ctx.tenant_id, r.channel_account_id);
      page.items.push_back(conversation_json(ctx.tenant_id, rows[i], traits[r.channel_account_id], ctx.now()));
    }
    if (rows.size() > q.limit) {
      const Row& last = rows[q.limit - 1].row;
      page.next = std::to_string(last.last_message_at) + ":" + last.id;
    }
    return page;
  });
}

Json ConversationService::conversation(const CallContext& ctx, const std::string& id, const ChannelKinds& traits_of) {
  require_inbox_read(ctx);
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    auto found = find_listed(tx, ctx, id);
    if (!found) throw Error(ErrorCode::not_found, "no conversation " + id + " in this tenant");
    return conversation_json(ctx.tenant_id, *found,
                             traits_for(traits_of, tx, ctx.tenant_id, found->row.channel_account_id), ctx.now());
  });
}

ConversationPage ConversationService::thread(const CallContext& ctx, const std::string& id, const std::string& before,
                                             std::size_t limit) {
  require_inbox_read(ctx);
  std::vector<std::pair<std::int64_t, std::string>> newest_first;
  deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    if (!find_listed(tx, ctx, id)) throw Error(ErrorCode::not_found, "no conversation " + id + " in this tenant");
    std::vector<store::SqlValue> params{ctx.tenant_id, id};
    std::string where = " WHERE tenant_id = :p0 AND conversation_id = :p1";
    if (!before.empty()) {
      auto [at, last] = position_of(before);
      params.insert(params.end(), {at, at, last});
      where += " AND (occurred_at < :p2 OR (occurred_at = :p3 AND id < :p4))";
    }
    store::query(tx.session(),
                 "SELECT occurred_at, id FROM interactions" + where + " ORDER BY occurred_at DESC, id DESC LIMIT " +
                     std::to_string(limit + 1),
                 params, [&](const store::Row& r) { newest_first.emplace_back(integer_at(r, 0).value_or(0), store::required_text(r, 1)); });
  });
  ConversationPage page;
  if (newest_first.size() > limit) {
    newest_first.pop_back();
    page.next = std::to_string(newest_first.back().first) + ":" + newest_first.back().second;
  }
  RecordService records(deps_);
  for (auto it = newest_first.rbegin(); it != newest_first.rend(); ++it)
    page.items.push_back(records.get(ctx, "interaction", it->second));
  return page;
}

Json ConversationService::mark(const CallContext& ctx, const std::string& id, const std::string& what,
                               const ChannelKinds& traits_of) {
  require_inbox_read(ctx);
  require_permission(ctx, entity_spec("interaction"), Operation::write);  // marking is a write of the inbox
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    auto found = find_listed(tx, ctx, id);
    if (!found) throw Error(ErrorCode::not_found, "no conversation " + id + " in this tenant");
    const Row& r = found->row;
    std::int64_t now = ctx.now().micros;
    Json changes = Json::object();
    if (what == "read") {
      store::execute(tx.session(),
                     "UPDATE conversations SET unread_count = 0, read_at = :p0, version = version + 1, updated_at = :p1"
                     " WHERE tenant_id = :p2 AND id = :p3",
                     {now, now, ctx.tenant_id, id});
      changes = {{"unread_count", {{"from", r.unread_count}, {"to", 0}}},
                 {"read_at", {{"from", time_or_null(r.read_at)}, {"to", format_rfc3339(Timestamp{now})}}}};
    } else {
      store::execute(tx.session(),
                     "UPDATE conversations SET awaiting_reply = 0, answered_at = :p0, version = version + 1,"
                     " updated_at = :p1 WHERE tenant_id = :p2 AND id = :p3",
                     {now, now, ctx.tenant_id, id});
      changes = {{"unanswered", {{"from", r.awaiting_reply}, {"to", false}}},
                 {"answered_at", {{"from", time_or_null(r.answered_at)}, {"to", format_rfc3339(Timestamp{now})}}}};
    }
    auto after = find_listed(tx, ctx, id);
    Json record = conversation_json(ctx.tenant_id, *after, traits_for(traits_of, tx, ctx.tenant_id, r.channel_account_id),
                                    ctx.now());
    // The event tells who and what changed, not what the contact wrote nor her name.
    Json event_record = record;
    event_record["last_message"].erase("preview");
    event_record.erase("contact_name");
    commit_change(tx, ctx, {"conversation." + what, "conversation", id, changes, event_record});
    return record;
  });
}

namespace {

std::vector<Row> conversations_where(store::Transaction& tx, const std::string& condition,
                                     const std::vector<store::SqlValue>& params) {
  std::vector<Row> rows;
  store::query(tx.session(), std::string("SELECT ") + row_columns + " FROM conversations cv WHERE " + condition + " ORDER BY cv.id",
               params, [&](const store::Row& r) { rows.push_back(row_of(r)); });
  return rows;
}

std::optional<std::int64_t> later_of(const std::optional<std::int64_t>& a, const std::optional<std::int64_t>& b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}

// Two conversations of one party on one channel account, as one: the latest message
// of either is the last, unread messages add up, the later read and answer stand.
Row joined(const Row& into, const Row& from) {
  Row r = into;
  if (from.last_message_at > into.last_message_at) {
    r.last_message_id = from.last_message_id;
    r.last_message_at = from.last_message_at;
    r.last_direction = from.last_direction;
    r.awaiting_reply = from.awaiting_reply;
  }
  r.last_inbound_at = later_of(into.last_inbound_at, from.last_inbound_at);
  r.unread_count = into.unread_count + from.unread_count;
  r.read_at = later_of(into.read_at, from.read_at);
  r.answered_at = later_of(into.answered_at, from.answered_at);
  return r;
}

store::SqlValue optional_value(const std::optional<std::int64_t>& v) {
  return v ? store::SqlValue{*v} : store::SqlValue{};
}

}  // namespace

std::size_t ConversationService::merge_conversations(const CallContext& ctx, const std::string& from_contact,
                                                     const std::string& to_contact) {
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    const std::string& tenant = ctx.tenant_id;
    std::int64_t now = ctx.now().micros;
    auto moved = conversations_where(tx, "cv.tenant_id = :p0 AND cv.contact_id = :p1", {tenant, from_contact});
    for (const Row& from : moved) {
      auto into = conversations_where(tx, "cv.tenant_id = :p0 AND cv.channel_account_id = :p1 AND cv.party = :p2",
                                      {tenant, from.channel_account_id, to_contact});
      Json changes = {{"contact_id", {{"from", from_contact}, {"to", to_contact}}}};
      Json record = {{"id", from.id}, {"channel_account_id", from.channel_account_id}, {"contact_id", to_contact}};
      if (into.empty()) {
        store::execute(tx.session(),
                       "UPDATE conversations SET contact_id = :p0, party = :p1, version = version + 1, updated_at = :p2"
                       " WHERE tenant_id = :p3 AND id = :p4",
                       {to_contact, to_contact, now, tenant, from.id});
      } else {
        Row r = joined(into.front(), from);
        store::execute(tx.session(), "UPDATE interactions SET conversation_id = :p0 WHERE tenant_id = :p1 AND conversation_id = :p2",
                       {r.id, tenant, from.id});
        store::execute(tx.session(), "DELETE FROM conversations WHERE tenant_id = :p0 AND id = :p1", {tenant, from.id});
        store::execute(tx.session(),
                       "UPDATE conversations SET last_message_id = :p0, last_message_at = :p1, last_direction = :p2,"
                       " last_inbound_at = :p3, unread_count = :p4, awaiting_reply = :p5, read_at = :p6, answered_at = :p7,"
                       " version = version + 1, updated_at = :p8 WHERE tenant_id = :p9 AND id = :p10",
                       {r.last_message_id, r.last_message_at, r.last_direction, optional_value(r.last_inbound_at),
                        r.unread_count, std::int64_t{r.awaiting_reply ? 1 : 0}, optional_value(r.read_at),
                        optional_value(r.answered_at), now, tenant, r.id});
        changes["merged_into"] = {{"from", nullptr}, {"to", r.id}};
        record = nullptr;  // removed: its messages are the other conversation's now
      }
      commit_change(tx, ctx, {"conversation.merged", "conversation", from.id, changes, record});
    }
    return moved.size();
  });
}

}  // namespace nucleo::services
