#include "kernel/services/write_batch.hpp"

#include <algorithm>
#include <functional>

#include "kernel/domain/normalise.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

thread_local WriteBatch* current = nullptr;

// The contact points a create of `spec` may store (entity_rules.cpp, contact_points_of),
// in the form the write will store them; a value that does not normalise is left out
// (the write refuses it or asks for itself).
void add_points(const EntitySpec& spec, const Json& input, const NormalisationSettings& normalisation,
                std::map<std::string, std::set<std::string>>& by_kind) {
  if (spec.type != "contact" && spec.type != "account") return;
  for (const auto& f : spec.fields) {
    bool email = f.type == FieldType::email || f.type == FieldType::email_list;
    bool phone = f.type == FieldType::phone || f.type == FieldType::phone_list;
    if (!email && !phone) continue;
    const Json& v = input.value(f.name, Json());
    auto add = [&](const Json& one) {
      if (!one.is_string()) return;
      auto stored = email ? normalise_email(one.get<std::string>())
                          : normalise_phone(one.get<std::string>(), normalisation.default_region);
      if (stored) by_kind[email ? "email" : "phone"].insert(*stored);
    };
    if (v.is_array())
      for (const auto& one : v) add(one);
    else
      add(v);
  }
}

}  // namespace

WriteBatch::WriteBatch(store::Transaction& tx, const CallContext& ctx, const EntitySpec& spec,
                       const NormalisationSettings& normalisation, const std::vector<Json>& inputs)
    : tx_(tx), outer_(current) {
  std::map<std::string, std::set<std::string>> ids_by_type, points_by_kind, external_ids_by_channel;
  for (const auto& input : inputs) {
    if (!input.is_object()) continue;
    if (spec.type == "interaction" && input.value("channel", Json()).is_string() &&
        input.value("external_id", Json()).is_string())
      external_ids_by_channel[input["channel"]].insert(input["external_id"].get<std::string>());
    for (const auto& f : spec.fields) {
      const Json& v = input.value(f.name, Json());
      if (f.type == FieldType::reference && v.is_string()) ids_by_type[f.target].insert(v.get<std::string>());
    }
    add_points(spec, input, normalisation, points_by_kind);
  }
  // A caller who sees only their own records is answered record by record (write.cpp,
  // check_references), so what they may not see stays indistinguishable from nothing.
  if (!(ctx.principal && ctx.principal->restricted_to_owners))
    for (const auto& [type, ids] : ids_by_type) ask_live(ctx, type, ids);
  for (const auto& [kind, values] : points_by_kind) ask_holders(ctx, kind, values);
  for (const auto& [channel, ids] : external_ids_by_channel) ask_external_ids(ctx, channel, ids);
  current = this;
}

WriteBatch::~WriteBatch() { current = outer_; }

WriteBatch* WriteBatch::of(const store::Transaction& tx) {
  return current && &current->tx_ == &tx ? current : nullptr;
}

namespace {

// `values` in slices small enough for any backend's limit on bound parameters.
void in_slices(const std::set<std::string>& values, const std::function<void(const std::vector<std::string>&)>& ask) {
  constexpr std::size_t slice = 500;
  std::vector<std::string> some;
  for (const auto& v : values) {
    some.push_back(v);
    if (some.size() == slice) ask(some), some.clear();
  }
  if (!some.empty()) ask(some);
}

}  // namespace

void WriteBatch::ask_live(const CallContext& ctx, const std::string& type, const std::set<std::string>& ids) {
  const EntitySpec* spec = find_entity_spec(type);
  if (!spec) return;
  auto& live = live_ids_[type];
  auto found = [&](const store::Row& r) { live.insert(store::required_text(r, 0)); };
  asked_ids_[type].insert(ids.begin(), ids.end());
  if (tx_.backend() == store::Backend::postgresql) {  // a primary-key probe an id (ask_holders says why)
    store::query(tx_.session(),
                 "SELECT w.id FROM unnest(CAST(:p0 AS text[])) AS w(id) CROSS JOIN LATERAL (SELECT 1 FROM " + spec->table +
                     " WHERE id = w.id AND tenant_id = :p1 AND archived_at IS NULL LIMIT 1) AS x",
                 {store::text_array({ids.begin(), ids.end()}), ctx.tenant_id}, found);
    return;
  }
  in_slices(ids, [&](const std::vector<std::string>& some) {
    std::vector<store::SqlValue> params{ctx.tenant_id};
    std::string list = store::bound_list(some, params);
    store::query(tx_.session(),
                 "SELECT id FROM " + spec->table + " WHERE tenant_id = :p0 AND archived_at IS NULL AND id IN " + list,
                 params, found);
  });
}

// On PostgreSQL one probe of contact_points_lookup a value, forced by a LATERAL subquery
// (OFFSET 0: the planner cannot flatten it): the `value IN (…)` of an import's 500 e-mails
// was planned, once the batch's own rows had grown the table past its statistics, as a
// filter over the tenant's every e-mail point — 500 comparisons a row, 171 ms a batch.
void WriteBatch::ask_holders(const CallContext& ctx, const std::string& kind, const std::set<std::string>& values) {
  for (const auto& v : values) holders_[{kind, v}];
  auto held = [&](const store::Row& r) {
    holders_[{kind, store::required_text(r, 0)}].push_back({store::required_text(r, 1), store::required_text(r, 2)});
  };
  if (tx_.backend() == store::Backend::postgresql) {
    store::query(tx_.session(),
                 "SELECT w.value, cp.entity_type, cp.entity_id FROM unnest(CAST(:p0 AS text[])) AS w(value)"
                 " CROSS JOIN LATERAL (SELECT entity_type, entity_id FROM contact_points WHERE tenant_id = :p1"
                 " AND kind = :p2 AND value = w.value OFFSET 0) AS cp ORDER BY cp.entity_id",
                 {store::text_array({values.begin(), values.end()}), ctx.tenant_id, kind}, held);
    return;
  }
  in_slices(values, [&](const std::vector<std::string>& some) {
    std::vector<store::SqlValue> params{ctx.tenant_id, kind};
    std::string list = store::bound_list(some, params);
    store::query(tx_.session(),
                 "SELECT value, entity_type, entity_id FROM contact_points"
                 " WHERE tenant_id = :p0 AND kind = :p1 AND value IN " + list + " ORDER BY entity_id",
                 params, held);
  });
}

// The unique index interactions_external finds each one. On PostgreSQL one probe an id
// is forced by a LATERAL subquery with a LIMIT (the planner cannot flatten it): a plain
// join — or an `external_id IN (…)` — of a channel the statistics have not seen yet (a
// new mailbox's first sync) was planned as a read of the channel's every message per
// batch, filtered (EXPLAIN: 7.4 ms a batch of 50, growing with the mailbox).
void WriteBatch::ask_external_ids(const CallContext& ctx, const std::string& channel, const std::set<std::string>& ids) {
  auto& asked = interactions_;
  for (const auto& id : ids) asked[{channel, id}];
  auto found = [&](const store::Row& r) { asked[{channel, store::required_text(r, 0)}] = store::required_text(r, 1); };
  if (tx_.backend() == store::Backend::postgresql) {
    store::query(tx_.session(),
                 "SELECT w.external_id, i.id FROM unnest(CAST(:p0 AS text[])) AS w(external_id)"
                 " CROSS JOIN LATERAL (SELECT id FROM interactions WHERE tenant_id = :p1 AND channel = :p2"
                 " AND external_id = w.external_id LIMIT 1) AS i",
                 {store::text_array({ids.begin(), ids.end()}), ctx.tenant_id, channel}, found);
    return;
  }
  in_slices(ids, [&](const std::vector<std::string>& some) {
    std::vector<store::SqlValue> params{ctx.tenant_id, channel};
    std::string list = store::bound_list(some, params);
    store::query(tx_.session(),
                 "SELECT external_id, id FROM interactions WHERE tenant_id = :p0 AND channel = :p1 AND external_id IN " + list,
                 params, found);
  });
}

std::optional<bool> WriteBatch::is_live(const std::string& type, const std::string& id) const {
  auto asked = asked_ids_.find(type);
  if (asked == asked_ids_.end() || !asked->second.count(id)) {
    auto live = live_ids_.find(type);  // created by the batch
    if (live != live_ids_.end() && live->second.count(id)) return true;
    return std::nullopt;
  }
  return live_ids_.at(type).count(id) > 0;
}

const std::vector<WriteBatch::Holder>* WriteBatch::holders(const std::string& kind, const std::string& value) const {
  auto it = holders_.find({kind, value});
  return it == holders_.end() ? nullptr : &it->second;
}

std::optional<std::string> WriteBatch::interaction_with(const std::string& channel, const std::string& external_id) const {
  auto it = interactions_.find({channel, external_id});
  if (it == interactions_.end()) return std::nullopt;
  return it->second;
}

void WriteBatch::created(const std::string& type, const std::string& id) { live_ids_[type].insert(id); }

void WriteBatch::received(const std::string& channel, const std::string& external_id, const std::string& interaction_id) {
  if (auto it = interactions_.find({channel, external_id}); it != interactions_.end()) it->second = interaction_id;
}

void WriteBatch::learned_live(const std::string& type, const std::string& id, bool live) {
  asked_ids_[type].insert(id);
  if (live) live_ids_[type].insert(id);
  else live_ids_[type].erase(id);
}

void WriteBatch::holds(const std::string& kind, const std::string& value, Holder holder) {
  auto it = holders_.find({kind, value});
  if (it == holders_.end()) return;
  auto& all = it->second;  // in entity id order, as the database lists them
  auto at = std::lower_bound(all.begin(), all.end(), holder,
                             [](const Holder& a, const Holder& b) { return a.entity_id < b.entity_id; });
  all.insert(at, std::move(holder));
}

}  // namespace nucleo::services
