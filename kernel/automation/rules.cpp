#include "kernel/automation/rules.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <regex>

#include "kernel/automation/cadences.hpp"
#include "kernel/automation/checklists.hpp"
#include "kernel/automation/rule_scan.hpp"
#include "kernel/domain/record_validation.hpp"
#include "kernel/domain/time_zone.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/automation_log.hpp"
#include "kernel/services/cadence_enrolments.hpp"
#include "kernel/services/conversation_service.hpp"
#include "kernel/services/proposal_service.hpp"

namespace nucleo::automation {
namespace {

using services::CallContext;
using services::RecordService;

// A record by id, or null when it is gone (archived, erased, never there).
Json live_record(RecordService& records, const CallContext& ctx, const std::string& type, const Json& id) {
  if (!id.is_string()) return Json();
  try {
    Json r = records.get(ctx, type, id.get<std::string>());
    return r.value("archived_at", Json()).is_null() ? r : Json();
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_found) return Json();
    throw;
  }
}

// The record the event's record reaches as `scope` ("account", "deal", "owner",
// "contact"), read now; null when there is none.
Json related_record(RecordService& records, const CallContext& ctx, const EntitySpec& spec, const std::string& type,
                    const std::string& scope, const Json& record) {
  if (scope == "account") return live_record(records, ctx, "account", record.value("account_id", Json()));
  if (scope == "deal") return live_record(records, ctx, "deal", record.value("deal_id", Json()));
  if (scope == "owner") return live_record(records, ctx, "user", record.value(spec.policy.owner_field, Json()));
  if (scope == "contact") {
    Json id = record.value("contact_id", Json());
    if (type == "deal" && !record.value("contacts", Json::array()).empty()) id = record["contacts"][0].value("contact_id", Json());
    return live_record(records, ctx, "contact", id);
  }
  return Json();
}

// The records rules of a trigger on `type` read for the event (the union of their
// `scopes`); nothing when the event carries no record (its payload erased). The event's
// own record is the event's copy — the state the event reports, what a dry run replays —
// and the others are read as they are now.
std::optional<Scopes> load_scopes(RecordService& records, const CallContext& ctx, const std::string& type,
                                  const std::vector<std::string>& scopes, const Json& envelope) {
  Scopes s;
  Json& event = s["event"] = Json::object();
  for (const char* field : {"id", "name", "occurred_at", "actor", "depth"})
    if (auto found = envelope.find(field); found != envelope.end()) event[field] = *found;
  if (type.empty()) return s;
  const Json& record = json_at(envelope, "data.record");
  if (!record.is_object() || !record.contains("id")) return std::nullopt;
  const EntitySpec* spec = find_entity_spec(type);
  if (spec == nullptr) {
    s["record"] = record;
    return s;
  }
  s[type] = record;
  for (const auto& scope : scopes)
    if (!s.count(scope)) s[scope] = related_record(records, ctx, *spec, type, scope, record);
  return s;
}

// The same scopes for evaluating conditions only, without copying what the event
// carries: "event" is the envelope itself (conditions name only its id, name,
// occurred_at, actor and depth, rule_document.cpp), the record the event's copy.
class ScopeRefs {
 public:
  ScopeRefs() = default;
  ScopeRefs(const ScopeRefs&) = delete;  // refs_ points into read_ and the envelope
  ScopeRefs& operator=(const ScopeRefs&) = delete;

  // False when the event carries no record (its payload erased).
  bool load(RecordService& records, const CallContext& ctx, const std::string& type,
            const std::vector<std::string>& scopes, const Json& envelope) {
    refs_.emplace_back("event", &envelope);
    if (type.empty()) return true;
    const Json& record = json_at(envelope, "data.record");
    if (!record.is_object() || !record.contains("id")) return false;
    const EntitySpec* spec = find_entity_spec(type);
    refs_.emplace_back(spec == nullptr ? "record" : type, &record);
    if (spec == nullptr) return true;
    for (const auto& scope : scopes)
      if (!find(scope)) refs_.emplace_back(scope, &read_.emplace_back(related_record(records, ctx, *spec, type, scope, record)));
    return true;
  }

  const Json* find(const std::string& scope) const {
    for (const auto& [name, json] : refs_)
      if (name == scope) return json;
    return nullptr;
  }

 private:
  std::vector<std::pair<std::string, const Json*>> refs_;
  std::deque<Json> read_;  // the related records read (a deque: what refs_ points at stays put)
};

Json rule_scope(const CompiledRule& rule) { return {{"id", rule.id}, {"name", rule.name}, {"version", rule.version}}; }

std::string id_in(const Scopes& s, const std::string& scope) {
  auto found = s.find(scope);
  return found != s.end() && found->second.is_object() ? found->second.value("id", "") : "";
}
Json id_or_null(const Scopes& s, const std::string& scope) {
  std::string id = id_in(s, scope);
  return id.empty() ? Json() : Json(id);
}

// The team's active users, by id.
std::vector<Json> team_members(RecordService& records, const CallContext& ctx, const std::string& team_id) {
  store::RecordQuery q;
  q.equals = {{"active", true}};
  q.limit = 1000;
  std::vector<Json> out;
  for (auto& u : records.list(ctx, "user", q))
    for (const auto& t : u.value("team_ids", Json::array()))
      if (t == team_id) out.push_back(u);
  std::sort(out.begin(), out.end(), [](const Json& a, const Json& b) { return a["id"] < b["id"]; });
  return out;
}

// The member a round robin gives the next record: the one after whom this rule last assigned.
std::string round_robin(services::ServiceDependencies deps, const CallContext& ctx, const CompiledRule& rule,
                        const std::vector<Json>& members) {
  std::string last;
  for (const auto& f : services::AutomationLog(deps).firings(ctx, rule.id, 1))
    for (const auto& a : f["summary"].value("actions", Json::array()))
      if (a.value("owner_id", Json()).is_string()) last = a["owner_id"];
  for (const auto& m : members)
    if (m["id"].get<std::string>() > last) return m["id"];
  return members.front()["id"];
}

// The member owning the fewest live records of the type (open ones for deals and tasks).
std::string least_loaded(RecordService& records, const CallContext& ctx, const std::string& type,
                         const std::vector<Json>& members) {
  std::string best;
  std::size_t fewest = SIZE_MAX;
  for (const auto& m : members) {
    store::RecordQuery q;
    q.equals = {{"owner_id", m["id"]}};
    if (type == "deal") q.equals.emplace_back("status", "open");
    q.limit = 10000;
    std::size_t owned = records.list(ctx, type, q).size();
    if (owned < fewest) fewest = owned, best = m["id"];
  }
  return best;
}

struct Planner {
  services::ServiceDependencies deps;
  const CallContext& ctx;
  const CompiledRule& rule;
  const Scopes& s;
  RecordService records{deps};

  Json create_task(const Json& a) {
    Json assignee_rule = a.value("assignee", Json{{"rule", "owner"}});
    std::string by = assignee_rule.value("rule", "owner");
    Json owner_id = by == "deal_owner" ? (s.count("deal") && s.at("deal").is_object() ? s.at("deal").value("owner_id", Json()) : Json())
                                       : id_or_null(s, "owner");
    auto assignee = assignee_of(records, ctx, assignee_rule, owner_id);
    std::string zone = assignee ? assignee->value("time_zone", "") : "";
    int days = a.value("due_in_business_days", 1);
    Timestamp due = business_day_at(ctx.now(), zone, days, checklist_due_hour);
    if (due <= ctx.now()) due = business_day_at(ctx.now(), zone, days + 1, checklist_due_hour);
    Json task = {{"title", render_template(a["title"], s)},
                 {"due_at", format_rfc3339(due)},
                 {"assignee_id", assignee ? (*assignee)["id"] : Json()},
                 {"kind", "follow_up"},
                 {"origin_rule", "rule:" + rule.id},
                 {"account_id", id_or_null(s, "account")},
                 {"contact_id", id_or_null(s, "contact")},
                 {"deal_id", id_or_null(s, "deal")}};
    if (rule.trigger.entity_type == "account") task["account_id"] = id_or_null(s, "account");
    return {{"type", "create_task"}, {"task", task}};
  }

  // The contact an action is for: the one in reach, or the deal's in a role ("": none).
  std::string recipient(const Json& a) {
    const Json to = a.value("to", Json("contact"));
    if (to == "contact") return id_in(s, "contact");
    if (s.count("deal") && s.at("deal").is_object())
      for (const auto& c : s.at("deal").value("contacts", Json::array()))
        if (c.value("role", Json()) == to["deal_role"]) return c.value("contact_id", "");
    return "";
  }
  std::string no_recipient(const Json& a) {
    const Json to = a.value("to", Json("contact"));
    return to == "contact" ? "no contact" : "the deal has no contact in the role " + to["deal_role"].get<std::string>();
  }

  // The cadence an action names: its id, or the id of the live cadence with its key
  // (null when none has it now).
  Json cadence_of(const Json& a) {
    if (!a.contains("cadence")) return a.value("cadence_id", Json());
    store::RecordQuery q;
    q.equals = {{"key", a["cadence"]}};
    q.limit = 1;
    auto found = records.list(ctx, "cadence", q);
    return found.empty() ? Json() : found.front()["id"];
  }

  Json enrol_in_cadence(const Json& a) {
    Json out = {{"type", "enrol_in_cadence"}, {"cadence_id", cadence_of(a)}, {"deal_id", id_or_null(s, "deal")}};
    if (out["cadence_id"].is_null()) return out["skipped"] = "no cadence with key " + a["cadence"].get<std::string>(), out;
    std::string contact_id = recipient(a);
    if (contact_id.empty()) return out["skipped"] = no_recipient(a), out;
    out["contact_id"] = contact_id;
    return out;
  }

  Json stop_cadence(const Json& a) {
    Json out = {{"type", "stop_cadence"}, {"cadence_id", cadence_of(a)}};
    if (a.contains("cadence") && out["cadence_id"].is_null())
      return out["skipped"] = "no cadence with key " + a["cadence"].get<std::string>(), out;
    if (id_in(s, "contact").empty()) return out["skipped"] = "no contact", out;
    out["contact_id"] = id_in(s, "contact");
    return out;
  }

  Json send_message(const Json& a) {
    Json out = {{"type", "send_message"}, {"channel_account_id", a["channel_account_id"]}};
    std::string contact_id = recipient(a);
    if (contact_id.empty()) return out["skipped"] = no_recipient(a), out;
    Json body = {{"channel_account_id", a["channel_account_id"]}};
    for (const char* key : {"text", "subject", "template", "purpose"})
      if (a.contains(key)) body[key] = render_strings(a[key], s);
    if (!id_in(s, "deal").empty()) body["deal_id"] = id_in(s, "deal");
    out["contact_id"] = contact_id;
    out["message"] = body;
    return out;
  }

  Json move_stage(const Json& a) {
    Json out = {{"type", "move_stage"}, {"stage_id", a["stage_id"]}};
    if (id_in(s, "deal").empty()) return out["skipped"] = "no deal", out;
    const Json& deal = s.at("deal");
    out["deal_id"] = deal["id"];
    out["from_stage_id"] = deal.value("stage_id", Json());
    if (deal.value("stage_id", Json()) == a["stage_id"]) out["skipped"] = "the deal is in that stage already";
    return out;
  }

  std::string target(const Json& a) { return a.value("on", rule.trigger.entity_type); }

  Json set_field(const Json& a) {
    const std::string on = target(a), field = a["field"];
    Json out = {{"type", "set_field"}, {"entity_type", s.count(on) ? entity_type_of(on) : on}, {"field", field}};
    if (id_in(s, on).empty()) return out["skipped"] = "no " + on, out;
    const std::string type = entity_type_of(on);
    Json value = validate_record_input(entity_spec(type), {{field, render_strings(a["value"], s)}}, WriteMode::update,
                                       deps.normalisation)[field];
    out["id"] = id_in(s, on);
    out["value"] = value;
    if (s.at(on).value(field, Json()) == value) out["skipped"] = "the " + field + " is that already";
    return out;
  }

  Json assign_owner(const Json& a) {
    const std::string on = target(a);
    const std::string type = entity_type_of(on);
    Json out = {{"type", "assign_owner"}, {"entity_type", type}, {"team_id", a["team_id"]},
                {"strategy", a.value("strategy", "round_robin")}};
    if (id_in(s, on).empty()) return out["skipped"] = "no " + on, out;
    out["id"] = id_in(s, on);
    auto members = team_members(records, ctx, a["team_id"]);
    if (members.empty()) return out["skipped"] = "the team has no active member", out;
    out["owner_id"] = out["strategy"] == "least_loaded" ? least_loaded(records, ctx, type, members)
                                                        : round_robin(deps, ctx, rule, members);
    if (s.at(on).value("owner_id", Json()) == out["owner_id"]) out["skipped"] = "owned by that member already";
    return out;
  }

  Json emit_event(const Json& a) {
    return {{"type", "emit_event"},
            {"name", "custom." + a["name"].get<std::string>()},
            {"entity", {{"type", rule.trigger.entity_type}, {"id", id_in(s, rule.trigger.entity_type)}}},
            {"data", render_strings(a.value("data", Json::object()), s)}};
  }

  // The proposal the trigger is about, else the deal's latest one not yet decided.
  Json send_proposal(const Json& a) {
    Json out = {{"type", "send_proposal"}};
    std::string proposal = id_in(s, "proposal");
    if (proposal.empty() && !id_in(s, "deal").empty())
      proposal = services::ProposalService(deps).open_proposal_of(ctx, id_in(s, "deal"));
    if (proposal.empty()) return out["skipped"] = "no proposal open on the deal", out;
    Json body = Json::object();
    for (const char* key : {"channel_account_id", "purpose", "link_days"})
      if (a.contains(key)) body[key] = a[key];
    if (a.contains("message")) body["message"] = render_template(a["message"], s);
    out["proposal_id"] = proposal;
    out["send"] = body;
    return out;
  }

  std::string entity_type_of(const std::string& scope) const { return scope == "owner" ? "user" : scope; }

  Json plan(const Json& a) {
    const std::string type = a["type"];
    if (type == "create_task") return create_task(a);
    if (type == "send_message") return send_message(a);
    if (type == "move_stage") return move_stage(a);
    if (type == "set_field") return set_field(a);
    if (type == "assign_owner") return assign_owner(a);
    if (type == "enrol_in_cadence") return enrol_in_cadence(a);
    if (type == "stop_cadence") return stop_cadence(a);
    if (type == "send_proposal") return send_proposal(a);
    return emit_event(a);
  }
};

// Runs one planned action through the services; returns what it wrote, by id.
Json execute(services::ServiceDependencies deps, const CallContext& ctx, const ChannelAccess& channels, const Json& p) {
  Json done = {{"type", p["type"]}};
  if (p.contains("skipped")) return done["skipped"] = p["skipped"], done;
  RecordService records(deps);
  const std::string type = p["type"];
  if (type == "create_task") {
    done["task_id"] = records.create(ctx, "task", p["task"]).record["id"];
  } else if (type == "send_message") {
    if (channels.jobs == nullptr) throw Error(ErrorCode::unavailable, "this node sends no channel messages");
    done["contact_id"] = p["contact_id"];
    done["interaction_id"] =
        services::ConversationService(deps).send(ctx, *channels.jobs, p["contact_id"], p["message"], channels.traits_of)["id"];
  } else if (type == "move_stage") {
    records.move_deal_stage(ctx, p["deal_id"], p["stage_id"]);
    done["deal_id"] = p["deal_id"];
    done["stage_id"] = p["stage_id"];
  } else if (type == "set_field") {
    records.update(ctx, p["entity_type"].get<std::string>(), p["id"], {{p["field"].get<std::string>(), p["value"]}});
    done["id"] = p["id"];
    done["field"] = p["field"];
  } else if (type == "assign_owner") {
    records.update(ctx, p["entity_type"].get<std::string>(), p["id"], {{"owner_id", p["owner_id"]}});
    done["id"] = p["id"];
    done["owner_id"] = p["owner_id"];
  } else if (type == "enrol_in_cadence") {
    done["enrolment_id"] = enrol_contact(deps, ctx, p["cadence_id"], p["contact_id"],
                                         p["deal_id"].is_string() ? p["deal_id"].get<std::string>() : "")["id"];
  } else if (type == "stop_cadence") {
    done["stopped"] = services::CadenceEnrolmentService(deps).stop(
        ctx, "contact_id", p["contact_id"], "stopped_by_rule",
        p["cadence_id"].is_string() ? p["cadence_id"].get<std::string>() : "");
  } else if (type == "send_proposal") {
    Json sent = services::ProposalService(deps).send(ctx, p["proposal_id"], p["send"], std::nullopt,
                                                     {channels.jobs, channels.traits_of});
    done["proposal_id"] = p["proposal_id"];
    done["revision"] = sent["version"]["revision"];
    done["link_id"] = sent["link"]["id"];
  } else {
    services::AutomationLog(deps).emit(ctx, p["name"].get<std::string>().substr(7), p["entity"]["type"], p["entity"]["id"],
                                       p["data"]);
    done["name"] = p["name"];
  }
  return done;
}

// The context a rule acts in: as itself, caused by the event, one level deeper.
CallContext rule_context(const CompiledRule& rule, const Json& envelope, const Clock& clock) {
  CallContext ctx;
  ctx.tenant_id = envelope.value("tenant_id", "");
  ctx.actor = {"rule", rule.id + "@" + std::to_string(rule.version), ""};
  ctx.request_id = envelope.value("id", "");
  ctx.clock = &clock;
  ctx.causation_id = envelope.value("id", "");
  ctx.depth = envelope.value("depth", 0) + 1;
  return ctx;
}

struct AlreadyFired {};

// A tenant's enabled rules, compiled, with what each event name needs worked out the
// first time it is seen: the rules whose pattern takes it and the records they read.
class RuleSet {
 public:
  struct ForName {
    // The rules of one trigger entity ("" when their events vary): the records they read
    // for an event (the union of their scopes) are read once for all of them.
    struct Group {
      std::string entity_type;
      std::vector<std::string> scopes;
      std::vector<const CompiledRule*> rules;
    };
    std::vector<Group> groups;
  };

  explicit RuleSet(std::vector<CompiledRule> rules) : rules_(std::move(rules)) {
    // Conditions on the same scope and field share a slot: an event reads the value once.
    std::map<std::pair<std::string, std::string>, int> slots;
    for (auto& rule : rules_)
      for (auto& c : rule.conditions)
        c.slot = slots.try_emplace({c.scope, c.filter.field}, static_cast<int>(slots.size())).first->second;
  }

  const ForName& for_name(const std::string& name) const {
    std::lock_guard lock(mutex_);
    auto found = by_name_.find(name);
    if (found != by_name_.end()) return found->second;
    ForName& entry = by_name_[name];
    for (const auto& rule : rules_) {
      if (!events::matches_pattern(rule.trigger.event_pattern, name)) continue;
      auto group = std::find_if(entry.groups.begin(), entry.groups.end(),
                                [&](const auto& g) { return g.entity_type == rule.trigger.entity_type; });
      if (group == entry.groups.end()) group = entry.groups.insert(entry.groups.end(), {rule.trigger.entity_type, {}, {}});
      group->rules.push_back(&rule);
      for (const auto& scope : rule.scopes)
        if (std::find(group->scopes.begin(), group->scopes.end(), scope) == group->scopes.end())
          group->scopes.push_back(scope);
    }
    return entry;
  }

 private:
  std::vector<CompiledRule> rules_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, ForName> by_name_;  // entries are never moved: std::map
};

// The rule sets of the tenants, for a while (AutomationSettings::cache_for).
class RuleCache {
 public:
  RuleCache(services::ServiceDependencies deps, std::chrono::milliseconds keep) : deps_(deps), keep_(keep) {}

  std::shared_ptr<const RuleSet> rules(const std::string& tenant_id, const Clock& clock) {
    auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mutex_);
      auto found = tenants_.find(tenant_id);
      if (found != tenants_.end() && now - found->second.loaded < keep_) return found->second.rules;
    }
    CallContext ctx;
    ctx.tenant_id = tenant_id;
    ctx.actor = {"system", "kernel:automation", ""};
    ctx.clock = &clock;
    store::RecordQuery q;
    q.equals = {{"enabled", true}};
    q.limit = 1000;
    std::vector<CompiledRule> compiled;
    std::optional<StageKeys> keys;
    for (const auto& r : RecordService(deps_).list(ctx, "automation_rule", q)) {
      if (!keys) keys = stage_keys(deps_, ctx);
      try {
        compiled.push_back(compile_rule(r, *keys));
      } catch (const Error&) {
        // Checked when saved; one that no longer compiles (a rule older than a check) fires nothing.
      }
    }
    auto set = std::make_shared<const RuleSet>(std::move(compiled));
    std::lock_guard lock(mutex_);
    tenants_[tenant_id] = {now, set};
    return set;
  }

  void forget(const std::string& tenant_id) {
    std::lock_guard lock(mutex_);
    tenants_.erase(tenant_id);
  }

 private:
  struct Entry {
    std::chrono::steady_clock::time_point loaded;
    std::shared_ptr<const RuleSet> rules;
  };
  services::ServiceDependencies deps_;
  std::chrono::milliseconds keep_;
  std::mutex mutex_;
  std::map<std::string, Entry> tenants_;
};

Json summary_of(const Json& plan, const Json& done) {
  return {{"entity", plan["entity"]}, {"event_name", plan["event_name"]}, {"actions", done}};
}

}  // namespace

StageKeys stage_keys(services::ServiceDependencies deps, const CallContext& ctx) {
  CallContext reader = ctx;
  reader.principal = nullptr;  // a rule sees the whole tenant's pipelines
  RecordService records(deps);
  store::RecordQuery q;
  q.present = {{"key", true}};
  q.limit = 1000;
  std::map<std::string, std::string> pipelines;  // id → key
  for (const auto& p : records.list(reader, "pipeline", q)) pipelines[p["id"]] = p["key"];
  StageKeys out;
  if (pipelines.empty()) return out;
  for (std::string after;;) {
    store::RecordQuery stages = q;
    stages.after_id = after;
    auto page = records.list(reader, "stage", stages);
    for (const auto& st : page)
      if (auto p = pipelines.find(st["pipeline_id"]); p != pipelines.end())
        out[p->second + "/" + st["key"].get<std::string>()] = st["id"];
    if (page.size() < stages.limit) return out;
    after = page.back()["id"];
  }
}

void register_rule_checks(services::ValidatorRegistry& validators) {
  validators.add("automation rules", "automation_rule", [](const services::ValidationRequest& r) {
    std::vector<FieldError> out;
    const Json& key = r.after.value("key", Json());
    static const std::regex key_pattern("^[a-z0-9_]{1,64}$");
    if (!key.is_null() && (!key.is_string() || !std::regex_match(key.get<std::string>(), key_pattern)))
      out.push_back({"/key", "must be 1 to 64 lower-case letters, digits or _"});
    auto problems = rule_problems(r.tx, r.context.tenant_id, r.after);
    out.insert(out.end(), problems.begin(), problems.end());
    return out;
  });
}

Json plan_firing(services::ServiceDependencies deps, const CallContext& ctx, const CompiledRule& rule,
                 const Json& envelope) {
  Json plan = {{"rule_id", rule.id},
               {"rule_version", rule.version},
               {"event_id", envelope.value("id", "")},
               {"event_name", envelope.value("name", "")},
               {"entity", envelope.value("entity", Json::object())},
               {"matched", false},
               {"actions", Json::array()}};
  if (!trigger_matches(rule.trigger, envelope)) return plan["reason"] = "the trigger does not match", plan;
  RecordService records(deps);
  auto scopes = load_scopes(records, ctx, rule.trigger.entity_type, rule.scopes, envelope);
  if (!scopes) return plan["reason"] = "the event carries no record (erased)", plan;
  (*scopes)["rule"] = rule_scope(rule);
  if (!conditions_hold(rule, *scopes)) return plan["reason"] = "the conditions do not hold", plan;
  plan["matched"] = true;
  Planner planner{deps, ctx, rule, *scopes};
  for (const auto& a : rule.actions) plan["actions"].push_back(planner.plan(a));
  return plan;
}

Json fire_rule(services::ServiceDependencies deps, const Clock& clock, const ChannelAccess& channels,
               const AutomationSettings& settings, const CompiledRule& rule, const Json& envelope) {
  if (!trigger_matches(rule.trigger, envelope)) return {{"outcome", "not_matched"}};
  CallContext ctx = rule_context(rule, envelope, clock);
  services::AutomationLog log(deps);
  const std::string event_id = envelope.value("id", "");
  // Fired already (a delivery again): the firing row's insert finds its twin and the
  // transaction rolls back — no read first, on the path every firing takes.
  Json plan;
  try {
    deps.database.in_one_transaction(ctx.tenant_id, [&] {
      plan = plan_firing(deps, ctx, rule, envelope);
      if (!plan["matched"].get<bool>()) return;
      if (envelope.value("depth", 0) >= settings.max_depth) return;  // stopped below, on its own
      Json done = Json::array();
      for (const auto& p : plan["actions"]) done.push_back(execute(deps, ctx, channels, p));
      if (!log.record(ctx, {rule.id, rule.version, event_id, "done", summary_of(plan, done)})) throw AlreadyFired{};
    });
  } catch (const AlreadyFired&) {
    return {{"outcome", "already_fired"}};
  } catch (const Error& e) {
    if (retryable(e.code())) throw;
    // Refused for good (a gate, a revoked consent, a record gone): nothing was written; say why.
    Json summary = {{"entity", envelope.value("entity", Json())}, {"event_name", envelope.value("name", "")},
                    {"error", {{"code", std::string(to_string(e.code()))}, {"message", e.what()}}}};
    log.record(ctx, {rule.id, rule.version, event_id, "failed", summary});
    return {{"outcome", "failed"}, {"plan", plan}, {"error", e.what()}};
  }
  if (!plan["matched"].get<bool>()) return {{"outcome", "not_matched"}, {"plan", plan}};
  if (envelope.value("depth", 0) >= settings.max_depth) {
    log.stop_loop(ctx, rule.id, rule.version, envelope);
    return {{"outcome", "loop_stopped"}, {"plan", plan}};
  }
  return {{"outcome", "done"}, {"plan", plan}};
}

events::Subscriber rules_subscriber(services::ServiceDependencies deps, const Clock& clock, ChannelAccess channels,
                                    AutomationSettings settings) {
  auto cache = std::make_shared<RuleCache>(deps, settings.cache_for);
  return {"kernel:automation", "*", [=, &clock](const Json& envelope) -> std::string {
            const std::string tenant_id = envelope.value("tenant_id", "");
            // A rule changed: the events after it see the change (their order is the outbox's).
            // (or a pipeline or stage: rules may name stages by key)
            if (const Json& type = json_at(envelope, "entity.type");
                type == "automation_rule" || type == "pipeline" || type == "stage")
              cache->forget(tenant_id);
            auto rules = cache->rules(tenant_id, clock);
            const Json& name = json_at(envelope, "name");
            if (!name.is_string()) return "";
            const RuleSet::ForName& candidates = rules->for_name(name.get_ref<const std::string&>());
            if (candidates.groups.empty()) return "";
            // The records are read once for every rule; most rules' conditions fail here,
            // in memory. Those that hold fire after, planning again inside their transaction.
            CallContext reader;
            reader.tenant_id = tenant_id;
            reader.actor = {"system", "kernel:automation", ""};
            reader.clock = &clock;
            RecordService records(deps);
            std::string errors;
            auto failed = [&errors](const std::string& what, const std::exception& e) {
              errors += (errors.empty() ? "" : "; ") + what + ": " + e.what();
            };
            std::vector<const CompiledRule*> holding;
            for (const auto& group : candidates.groups) {
              ScopeRefs scopes;
              EventMemo memo;  // per group: each group's scopes are its own
              bool loaded = false, carries_record = false;
              for (const CompiledRule* rule : group.rules) {
                try {
                  // The name matched when the candidates were found; a stage trigger looks further.
                  if (rule->trigger.on_stage() && !trigger_matches(rule->trigger, envelope)) continue;
                  if (!loaded) carries_record = scopes.load(records, reader, group.entity_type, group.scopes, envelope);
                  loaded = true;
                  if (!carries_record) break;
                  if (conditions_hold(*rule, [&](const std::string& name) { return scopes.find(name); }, &memo))
                    holding.push_back(rule);
                } catch (const std::exception& e) {
                  failed(rule->id, e);  // tried again with the event
                }
              }
            }
            auto fire_each = [&] {
              for (const CompiledRule* rule : holding) try {
                  fire_rule(deps, clock, channels, settings, *rule, envelope);
                } catch (const std::exception& e) {
                  failed(rule->id, e);  // the other rules still fire; this one is tried again with the event
                }
            };
            if (holding.size() < 2) {
              fire_each();
              return errors;
            }
            // One event's firings commit together — one commit (a WAL flush) for all, not
            // one each — and each in a savepoint of its own: a rule refused leaves the
            // others done. If the commit fails none is done, and the event comes again.
            try {
              deps.database.in_one_transaction(tenant_id, fire_each, store::Database::Joined::roll_back_alone);
            } catch (const std::exception& e) {
              failed("the firings of event " + envelope.value("id", ""), e);
            }
            return errors;
          }};
}

Json dry_run(services::ServiceDependencies deps, const CallContext& ctx, const Json& rule, std::size_t events) {
  services::require_role(ctx, {"admin", "manager", "auditor"}, "automation is for the admin, manager and auditor roles",
                         "automation_rules:read");
  auto problems = deps.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    return rule_problems(tx, ctx.tenant_id, rule);
  });
  if (!problems.empty()) throw validation_error("invalid automation rule", std::move(problems));
  CompiledRule compiled = compile_rule(rule, stage_keys(deps, ctx));
  services::AutomationLog log(deps);
  Json out = {{"rule", {{"id", rule.value("id", Json())}, {"version", rule.value("version", Json())}}},
              {"generated_at", format_rfc3339(ctx.now())},
              {"would_fire", Json::array()},
              {"not_matched", 0}};
  std::size_t examined = 0, not_matched = 0;
  // A time rule's events are the records it would take now (rule_scan.hpp).
  auto replayed = compiled.trigger.on_time() ? time_events(deps, ctx, compiled, events) : log.recent_events(ctx, events);
  for (const auto& envelope : replayed) {
    ++examined;
    if (!trigger_matches(compiled.trigger, envelope)) continue;
    CallContext as_rule = rule_context(compiled, envelope, *ctx.clock);
    Json plan = plan_firing(deps, as_rule, compiled, envelope);
    if (!plan["matched"].get<bool>()) {
      ++not_matched;
      continue;
    }
    if (!compiled.id.empty() && log.fired(ctx, compiled.id, envelope["id"])) plan["already_fired"] = true;
    out["would_fire"].push_back(plan);
  }
  out["examined"] = examined;
  out["not_matched"] = not_matched;
  return out;
}

}  // namespace nucleo::automation
