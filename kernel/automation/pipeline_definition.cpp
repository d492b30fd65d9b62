#include "kernel/automation/pipeline_definition.hpp"

#include <map>
#include <regex>
#include <set>

#include "kernel/automation/apply.hpp"
#include "kernel/automation/checklists.hpp"
#include "kernel/automation/stage_gate.hpp"

namespace nucleo::automation {
namespace {

using services::RecordService;

const std::regex key_pattern("^[a-z0-9_]{1,64}$");
const std::set<std::string> document_keys{"name", "description", "pipelines"};
const std::set<std::string> definition_keys{"key", "name", "stages", "move_deals"};
const std::set<std::string> stage_keys{"key",  "name",     "position",       "probability",
                                       "kind", "rot_days", "entry_criteria", "checklist_template"};
// The stage fields a definition sets besides its gate (set last, once every stage exists).
const std::vector<std::string> stage_fields{"key", "name", "position", "probability", "kind", "rot_days",
                                            "checklist_template"};

bool is_key(const Json& v) { return v.is_string() && std::regex_match(v.get<std::string>(), key_pattern); }

bool is_text(const Json& v, std::size_t max) {
  return v.is_string() && !v.get<std::string>().empty() && v.get<std::string>().size() <= max;
}

void unknown_keys(const Json& object, const std::set<std::string>& known, const std::string& at, const std::string& what,
                  std::vector<FieldError>& out) {
  for (const auto& [key, v] : object.items())
    if (!known.count(key)) out.push_back({at + "/" + key, "is not a key of " + what});
}

// The stage as the definition wants it: every field of `stage_fields` with the
// defaults a stage gets (position: its place in the list).
Json wanted_stage(const Json& s, std::size_t index) {
  return {{"key", s["key"]},
          {"name", s["name"]},
          {"position", s.value("position", static_cast<std::int64_t>(index))},
          {"probability", s.value("probability", 0)},
          {"kind", s.value("kind", "open")},
          {"rot_days", s.value("rot_days", Json())},
          {"checklist_template", s.value("checklist_template", Json::array())}};
}

void stage_problems(const Json& s, std::size_t index, const std::string& at, std::set<std::string>& keys,
                    std::set<std::string>& names, std::set<std::int64_t>& positions, std::vector<FieldError>& out) {
  if (!s.is_object()) return out.push_back({at, "must be a stage object"});
  unknown_keys(s, stage_keys, at, "a stage definition", out);
  if (!is_key(s.value("key", Json()))) out.push_back({at + "/key", "must be 1 to 64 lower-case letters, digits or _"});
  else if (!keys.insert(s["key"].get<std::string>()).second) out.push_back({at + "/key", "repeats another stage's key"});
  if (!is_text(s.value("name", Json()), 200)) out.push_back({at + "/name", "must be text of 1 to 200 characters"});
  else if (!names.insert(s["name"].get<std::string>()).second) out.push_back({at + "/name", "repeats another stage's name"});
  Json position = s.value("position", Json(static_cast<std::int64_t>(index)));
  if (!position.is_number_integer() || position.get<std::int64_t>() < 0 || position.get<std::int64_t>() > 1000)
    out.push_back({at + "/position", "must be a whole number from 0 to 1000"});
  else if (!positions.insert(position.get<std::int64_t>()).second)
    out.push_back({at + "/position", "repeats another stage's position"});
  Json probability = s.value("probability", Json(0));
  if (!probability.is_number_integer() || probability.get<std::int64_t>() < 0 || probability.get<std::int64_t>() > 100)
    out.push_back({at + "/probability", "must be a whole number from 0 to 100"});
  Json kind = s.value("kind", Json("open"));
  if (kind != "open" && kind != "won" && kind != "lost") out.push_back({at + "/kind", "must be open, won or lost"});
  Json rot = s.value("rot_days", Json());
  if (!rot.is_null() && (!rot.is_number_integer() || rot.get<std::int64_t>() < 1 || rot.get<std::int64_t>() > 3650))
    out.push_back({at + "/rot_days", "must be null or a whole number of days from 1 to 3650"});
  if (s.contains("checklist_template")) {
    auto problems = checklist_definition_problems(s["checklist_template"], at + "/checklist_template");
    out.insert(out.end(), problems.begin(), problems.end());
  }
}

// Every problem of one pipeline definition, named by JSON pointer under `at`.
void definition_problems(const Json& def, const std::string& at, bool key_required, std::vector<FieldError>& out) {
  std::string prefix = at.empty() ? "" : at + "/";
  if (!def.is_object()) return out.push_back({at.empty() ? "" : at, "must be a pipeline definition object"});
  unknown_keys(def, definition_keys, at.empty() ? "" : at, "a pipeline definition", out);
  if ((key_required || def.contains("key")) && !is_key(def.value("key", Json())))
    out.push_back({prefix + "key", "must be 1 to 64 lower-case letters, digits or _"});
  if (!is_text(def.value("name", Json()), 200)) out.push_back({prefix + "name", "must be text of 1 to 200 characters"});
  const Json& stages = def.value("stages", Json());
  if (!stages.is_array() || stages.empty() || stages.size() > 50)
    return out.push_back({prefix + "stages", "must be an array of 1 to 50 stages"});
  std::set<std::string> keys, names;
  std::set<std::int64_t> positions;
  std::size_t before = out.size();
  for (std::size_t i = 0; i < stages.size(); ++i)
    stage_problems(stages[i], i, prefix + "stages/" + std::to_string(i), keys, names, positions, out);
  if (out.size() > before) return;  // gates are checked against a well-formed list of stages
  GateScope scope;
  scope.stage_field = "stage";
  for (std::size_t i = 0; i < stages.size(); ++i) {
    Json w = wanted_stage(stages[i], i);
    StageOutline outline{w["key"], w["position"], {}};
    for (const auto& item : w["checklist_template"]) outline.checklist_keys.push_back(item["key"]);
    scope.stages.push_back(outline);
  }
  for (std::size_t i = 0; i < stages.size(); ++i) {
    scope.own_ref = stages[i]["key"];
    scope.own_position = wanted_stage(stages[i], i)["position"];
    auto problems = gate_definition_problems(stages[i].value("entry_criteria", Json::array()), scope,
                                             prefix + "stages/" + std::to_string(i) + "/entry_criteria");
    out.insert(out.end(), problems.begin(), problems.end());
  }
  const Json& moves = def.value("move_deals", Json::object());
  if (!moves.is_object()) return out.push_back({prefix + "move_deals", "must map removed stages to stage keys"});
  for (const auto& [from, to] : moves.items())
    if (!to.is_string() || !keys.count(to.get<std::string>()))
      out.push_back({prefix + "move_deals/" + from, "must name a stage key of this definition"});
}

void throw_if_any(const std::vector<FieldError>& problems) {
  if (!problems.empty()) throw validation_error("invalid pipeline definition", problems);
}

// Applies one definition through the services, recording what changed.
class Applier {
 public:
  Applier(services::ServiceDependencies deps, const services::CallContext& ctx) : deps_(deps), ctx_(ctx), records_(deps) {}

  Json apply(const Json& def, std::optional<Json> pipeline, const std::string& at) {
    bool created = !pipeline;
    Json wanted = {{"name", def["name"]}};
    if (def.contains("key")) wanted["key"] = def["key"];  // PUT without a key keeps the pipeline's
    if (!pipeline) pipeline = note("pipeline", records_.create(ctx_, "pipeline", wanted).record, Json(), "create");
    else update("pipeline", *pipeline, wanted);
    std::string pipeline_id = (*pipeline)["id"];
    auto current = stages_of(pipeline_id);
    match(def["stages"], current);
    move_out_of_removed(def, at);
    clear_gates_that_change(def["stages"]);
    write_stages(def["stages"], pipeline_id);
    write_gates(def["stages"]);
    archive_removed();  // last: deals moved out pass the new gates, or are recorded overriding them
    return {{"key", def.value("key", Json())}, {"id", pipeline_id}, {"created", created}};
  }

  Json changes() const {
    Json out = Json::array();
    for (const auto& id : order_) {
      Json c = changes_.at(id);
      if (c["op"] == "update") {
        Json fields = Json::object();
        for (const auto& [f, d] : c["fields"].items())
          if (d["from"] != d["to"]) fields[f] = d;
        if (fields.empty()) continue;
        c["fields"] = fields;
      }
      out.push_back(c);
    }
    return out;
  }

 private:
  std::vector<Json> stages_of(const std::string& pipeline_id) {
    store::RecordQuery q;
    q.equals = {{"pipeline_id", pipeline_id}};
    q.limit = 1000;
    return records_.list(ctx_, "stage", q);
  }

  // Each wanted stage's stored one: by key, else a key-less stage of the same name.
  void match(const Json& stages, const std::vector<Json>& current) {
    std::set<std::string> taken;
    for (const auto& s : stages) {
      const Json* found = nullptr;
      for (const auto& c : current)
        if (c.value("key", Json()) == s["key"]) found = &c;
      for (const auto& c : current)
        if (!found && c.value("key", Json()).is_null() && c["name"] == s["name"] && !taken.count(c["id"])) found = &c;
      if (found) {
        taken.insert((*found)["id"]);
        stored_[s["key"]] = *found;
      }
    }
    for (const auto& c : current)
      if (!taken.count(c["id"])) removed_.push_back(c);
  }

  // A removed stage's live deals go where move_deals says, as an override of the gates
  // there (the definition's author decides), or the apply is refused.
  void move_out_of_removed(const Json& def, const std::string& at) {
    const Json& moves = def.value("move_deals", Json::object());
    std::vector<FieldError> problems;
    for (const auto& r : removed_) {
      std::string id = r["id"], key = r.value("key", Json()).is_string() ? r["key"].get<std::string>() : "";
      auto deals = deals_in(id, 1);
      if (deals.empty()) continue;
      std::string to = moves.contains(id) ? moves[id].get<std::string>()
                       : !key.empty() && moves.contains(key) ? moves[key].get<std::string>() : "";
      if (to.empty()) {
        problems.push_back({(at.empty() ? "" : at + "/") + "move_deals",
                            "stage " + (key.empty() ? r["name"].get<std::string>() : key) + " (" + id +
                                ") is left out but holds deals: map it to a stage key in move_deals",
                            "deals_in_removed_stage"});
        continue;
      }
      pending_moves_.emplace_back(id, to);
    }
    throw_if_any(problems);
  }

  std::vector<Json> deals_in(const std::string& stage_id, std::size_t limit) {
    store::RecordQuery q;
    q.equals = {{"stage_id", stage_id}};
    q.limit = limit;
    return records_.list(ctx_, "deal", q);
  }

  // Gates are written last, against the final stages; until then a gate that changes,
  // or (when stages move, appear or go) one naming another stage's checklist, is set
  // aside so that no intermediate state is refused.
  void clear_gates_that_change(const Json& stages) {
    bool structural = !removed_.empty();
    for (std::size_t i = 0; i < stages.size(); ++i) {
      auto it = stored_.find(stages[i]["key"]);
      if (it == stored_.end()) structural = true;
      else if (differs(it->second, wanted_stage(stages[i], i), {"position", "checklist_template"})) structural = true;
    }
    for (auto& [key, stage] : stored_) {
      const Json& gate = stage.value("entry_criteria", Json::array());
      if (gate.empty()) continue;
      bool names_a_checklist = false;
      for (const auto& c : gate) names_a_checklist = names_a_checklist || c.value("kind", "") == "checklist";
      Json target = gate_of(stages, key, /*final_ids=*/false);
      if (target != gate || (structural && names_a_checklist)) update("stage", stage, {{"entry_criteria", Json::array()}});
    }
  }

  void write_stages(const Json& stages, const std::string& pipeline_id) {
    for (std::size_t i = 0; i < stages.size(); ++i) {
      Json wanted = wanted_stage(stages[i], i);
      auto it = stored_.find(wanted["key"]);
      if (it != stored_.end()) {
        update("stage", it->second, wanted);
        continue;
      }
      wanted["pipeline_id"] = pipeline_id;
      stored_[wanted["key"]] = note("stage", records_.create(ctx_, "stage", wanted).record, Json(), "create");
    }
  }

  void archive_removed() {
    services::CallContext mover = ctx_;
    mover.override_gates = true;
    if (mover.reason.empty()) mover.reason = "pipeline definition applied: the deal's stage was removed";
    for (const auto& [from, to_key] : pending_moves_) {
      const Json& target = stored_.at(to_key);
      std::string to = target["id"], lost_reason = target["kind"] == "lost" ? "stage removed from the pipeline" : "";
      std::size_t moved = 0;
      for (auto batch = deals_in(from, 200); !batch.empty(); batch = deals_in(from, 200))
        for (const auto& d : batch) {
          records_.move_deal_stage(mover, d["id"], to, std::nullopt, lost_reason);
          ++moved;
        }
      move_counts_[from] = moved;
    }
    for (const auto& r : removed_) {
      Json change = {{"op", "archive"}, {"entity", "stage"}, {"key", r.value("key", Json())}, {"id", r["id"]}};
      if (move_counts_.count(r["id"])) change["deals_moved"] = move_counts_[r["id"]];
      remember(r["id"], change);
      records_.archive(ctx_, "stage", r["id"]);
    }
  }

  void write_gates(const Json& stages) {
    for (const auto& s : stages) {
      Json& stage = stored_.at(s["key"]);
      Json gate = gate_of(stages, s["key"], /*final_ids=*/true);
      update("stage", stage, {{"entry_criteria", gate}});
    }
  }

  // The stage's wanted gate with its checklist criteria naming stages by id ("stage" →
  // "stage_id"). Before the stages exist, a new one's id is unknown: "new:<key>".
  Json gate_of(const Json& stages, const std::string& key, bool final_ids) {
    for (const auto& s : stages) {
      if (s["key"] != key) continue;
      Json gate = s.value("entry_criteria", Json::array());
      for (auto& c : gate) {
        if (c.value("kind", "") != "checklist") continue;
        std::string named = c["stage"];
        auto it = stored_.find(named);
        c.erase("stage");
        c["stage_id"] = it != stored_.end() ? it->second["id"].get<std::string>() : (final_ids ? "" : "new:" + named);
      }
      return gate;
    }
    return Json::array();
  }

  static bool differs(const Json& stored, const Json& wanted, const std::vector<std::string>& fields) {
    for (const auto& f : fields)
      if (stored.value(f, Json()) != wanted.value(f, Json())) return true;
    return false;
  }

  // Updates `record` to the `wanted` values that differ, keeping `record` current.
  void update(const std::string& type, Json& record, const Json& wanted) {
    Json patch = Json::object();
    for (const auto& [f, v] : wanted.items())
      if (record.value(f, Json()) != v) patch[f] = v;
    if (patch.empty()) return;
    Json before = record;
    record = records_.update(ctx_, type, record["id"], patch).record;
    note(type, record, before, "update");
  }

  Json note(const std::string& type, const Json& record, const Json& before, const std::string& op) {
    std::string id = record["id"];
    Json change = changes_.count(id) ? changes_[id] : Json{{"op", op}, {"entity", type}, {"id", id}, {"fields", Json::object()}};
    change["key"] = record.value("key", Json());
    for (const auto& f : type == "pipeline" ? std::vector<std::string>{"key", "name"} : stage_fields_and_gate()) {
      if (op == "create" && record.value(f, Json()).is_null()) continue;
      Json from = change["fields"].contains(f) ? change["fields"][f]["from"] : before.is_null() ? Json() : before.value(f, Json());
      change["fields"][f] = {{"from", from}, {"to", record.value(f, Json())}};
    }
    remember(id, change);
    return record;
  }

  static std::vector<std::string> stage_fields_and_gate() {
    auto fields = stage_fields;
    fields.push_back("entry_criteria");
    return fields;
  }

  void remember(const std::string& id, const Json& change) {
    if (!changes_.count(id)) order_.push_back(id);
    changes_[id] = change;
  }

  services::ServiceDependencies deps_;
  const services::CallContext& ctx_;
  RecordService records_;
  std::map<std::string, Json> stored_;  // definition key → the stage as stored now
  std::vector<Json> removed_;
  std::vector<std::pair<std::string, std::string>> pending_moves_;  // stage id → stage key
  std::map<std::string, std::size_t> move_counts_;
  std::map<std::string, Json> changes_;
  std::vector<std::string> order_;
};


std::optional<Json> pipeline_with_key(RecordService& records, const services::CallContext& ctx, const Json& key) {
  store::RecordQuery q;
  q.equals = {{"key", key}};
  q.limit = 1;
  auto found = records.list(ctx, "pipeline", q);
  if (found.empty()) return std::nullopt;
  return found.front();
}

}  // namespace

Json apply_pipeline_document(services::ServiceDependencies deps, const services::CallContext& ctx, const Json& document,
                             bool dry_run) {
  std::vector<FieldError> problems;
  if (!document.is_object()) throw_if_any({{"", "must be an object with \"pipelines\""}});
  unknown_keys(document, document_keys, "", "a pipeline document", problems);
  const Json& pipelines = document.value("pipelines", Json());
  if (!pipelines.is_array() || pipelines.empty()) problems.push_back({"pipelines", "must be a non-empty array"});
  std::set<std::string> keys;
  for (std::size_t i = 0; pipelines.is_array() && i < pipelines.size(); ++i) {
    definition_problems(pipelines[i], "pipelines/" + std::to_string(i), true, problems);
    if (pipelines[i].is_object() && is_key(pipelines[i].value("key", Json())) &&
        !keys.insert(pipelines[i]["key"].get<std::string>()).second)
      problems.push_back({"pipelines/" + std::to_string(i) + "/key", "repeats another pipeline's key"});
  }
  throw_if_any(problems);
  return apply_or_roll_back(deps, ctx, dry_run, [&] {
    Json applied = Json::array(), changes = Json::array();
    for (std::size_t i = 0; i < pipelines.size(); ++i) {
      RecordService records(deps);
      Applier applier(deps, ctx);
      applied.push_back(applier.apply(pipelines[i], pipeline_with_key(records, ctx, pipelines[i]["key"]),
                                      "pipelines/" + std::to_string(i)));
      for (auto& c : applier.changes()) changes.push_back(std::move(c));
    }
    return Json{{"pipelines", applied}, {"changes", changes}};
  });
}

Json apply_pipeline_definition(services::ServiceDependencies deps, const services::CallContext& ctx,
                               const std::string& pipeline_id, const Json& definition, bool dry_run) {
  Json pipeline = RecordService(deps).get(ctx, "pipeline", pipeline_id);  // 404 before any 422
  std::vector<FieldError> problems;
  definition_problems(definition, "", false, problems);
  throw_if_any(problems);
  return apply_or_roll_back(deps, ctx, dry_run, [&] {
    Applier applier(deps, ctx);
    Json applied = applier.apply(definition, pipeline, "");
    return Json{{"pipelines", Json::array({applied})}, {"changes", applier.changes()}};
  });
}

Json pipeline_definition_of(services::ServiceDependencies deps, const services::CallContext& ctx,
                            const std::string& pipeline_id) {
  RecordService records(deps);
  Json pipeline = records.get(ctx, "pipeline", pipeline_id);
  store::RecordQuery q;
  q.equals = {{"pipeline_id", pipeline_id}};
  q.limit = 1000;
  auto stages = records.list(ctx, "stage", q);
  std::sort(stages.begin(), stages.end(), [](const Json& a, const Json& b) { return a["position"] < b["position"]; });
  std::map<std::string, std::string> key_of;  // stage id → its key (a stage without one: stage_<n>)
  for (std::size_t i = 0; i < stages.size(); ++i)
    key_of[stages[i]["id"]] = stages[i].value("key", Json()).is_string() ? stages[i]["key"].get<std::string>()
                                                                          : "stage_" + std::to_string(i + 1);
  Json out = {{"name", pipeline["name"]}, {"stages", Json::array()}};
  if (pipeline.value("key", Json()).is_string()) out["key"] = pipeline["key"];
  for (const auto& s : stages) {
    Json gate = s.value("entry_criteria", Json::array());
    for (auto& c : gate)
      if (c.value("kind", "") == "checklist") {
        c["stage"] = key_of.count(c["stage_id"]) ? key_of[c["stage_id"]] : c["stage_id"].get<std::string>();
        c.erase("stage_id");
      }
    Json stage = {{"key", key_of[s["id"]]},
                  {"name", s["name"]},
                  {"position", s["position"]},
                  {"probability", s["probability"]},
                  {"kind", s["kind"]},
                  {"rot_days", s.value("rot_days", Json())},
                  {"entry_criteria", gate},
                  {"checklist_template", s.value("checklist_template", Json::array())}};
    out["stages"].push_back(stage);
  }
  return out;
}

}  // namespace nucleo::automation
