#include "kernel/automation/cadences.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "kernel/automation/checklists.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/domain/time_zone.hpp"
#include "kernel/events/backoff.hpp"
#include "kernel/services/cadence_enrolments.hpp"
#include "kernel/services/proposal_service.hpp"
#include "kernel/services/consent_service.hpp"
#include "kernel/services/tenant_service.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::automation {
namespace {

using services::CallContext;
using services::RecordService;

constexpr std::int64_t micros_per_day = 86'400'000'000, micros_per_hour = 3'600'000'000;

bool tenant_has(store::Transaction& tx, const std::string& table, const std::string& tenant_id, const std::string& id) {
  bool found = false;
  store::query(tx.session(), "SELECT 1 FROM " + table + " WHERE tenant_id = :p0 AND id = :p1", {tenant_id, id},
               [&](const store::Row&) { found = true; });
  return found;
}

void step_problems(store::Transaction& tx, const std::string& tenant_id, const Json& step, const std::string& at,
                   std::int64_t& last_delay, std::vector<FieldError>& out) {
  if (!step.is_object()) return out.push_back({at, "must be a step object (delay_days, type, …)"});
  const std::string type = step.value("type", Json("")).is_string() ? step.value("type", "") : "";
  std::set<std::string> keys{"delay_days", "type"};
  if (type == "message") keys.insert({"channel_account_id", "text", "template", "subject"});
  if (type == "task") keys.insert({"title", "due_in_business_days", "assignee"});
  if (type == "proposal") keys.insert({"channel_account_id", "message"});
  for (const auto& [key, _] : step.items())
    if (!keys.count(key)) out.push_back({at + "/" + key, "is not part of a " + (type.empty() ? std::string("step") : type + " step")});
  const Json& delay = step.value("delay_days", Json());
  if (!delay.is_number_integer() || delay.get<std::int64_t>() < 0 || delay.get<std::int64_t>() > 365)
    out.push_back({at + "/delay_days", "must be a whole number of days from 0 to 365"});
  else if (delay.get<std::int64_t>() < last_delay)
    out.push_back({at + "/delay_days", "must not be less than the step before's: delays count from the enrolment"});
  else
    last_delay = delay.get<std::int64_t>();
  if (type == "message") {
    const Json& channel = step.value("channel_account_id", Json());
    if (!channel.is_string() || !is_valid_id(channel.get<std::string>(), id_prefix::channel_account))
      out.push_back({at + "/channel_account_id", "must be a channel account id (chn_…)"});
    else if (!tenant_has(tx, "channel_accounts", tenant_id, channel))
      out.push_back({at + "/channel_account_id", "no channel account " + channel.get<std::string>()});
    if (!step.contains("text") && !step.contains("template"))
      out.push_back({at, "a message step has a text, a template (WhatsApp outside the 24-hour window), or both"});
    if (step.contains("text") && (!step["text"].is_string() || step["text"].get<std::string>().empty()))
      out.push_back({at + "/text", "must be non-empty text"});
    if (step.contains("template") && (!step["template"].is_object() || !step["template"].value("name", Json()).is_string() ||
                                      !step["template"].value("language", Json()).is_string()))
      out.push_back({at + "/template", "must be {\"name\", \"language\", \"components\"?}"});
  } else if (type == "proposal") {
    // The deal's latest open proposal, sent (frozen, its link in the message) on the channel.
    const Json& channel = step.value("channel_account_id", Json());
    if (!channel.is_string() || !is_valid_id(channel.get<std::string>(), id_prefix::channel_account))
      out.push_back({at + "/channel_account_id", "must be a channel account id (chn_…)"});
    else if (!tenant_has(tx, "channel_accounts", tenant_id, channel))
      out.push_back({at + "/channel_account_id", "no channel account " + channel.get<std::string>()});
    if (step.contains("message") && (!step["message"].is_string() || step["message"].get<std::string>().empty()))
      out.push_back({at + "/message", "must be non-empty text"});
  } else if (type == "task") {
    if (!step.value("title", Json()).is_string() || step["title"].get<std::string>().empty())
      out.push_back({at + "/title", "is required"});
    if (step.contains("due_in_business_days") &&
        (!step["due_in_business_days"].is_number_integer() || step["due_in_business_days"].get<std::int64_t>() < 0 ||
         step["due_in_business_days"].get<std::int64_t>() > 365))
      out.push_back({at + "/due_in_business_days", "must be a whole number from 0 to 365"});
    if (step.contains("assignee")) assignee_problems(step["assignee"], at + "/assignee", out);
  } else {
    out.push_back({at + "/type", "must be message, task or proposal"});
  }
  Json texts = step;
  texts.erase("channel_account_id");
  texts.erase("type");
  texts.erase("assignee");
  for (auto& p : template_problems_in(texts, at, "deal")) out.push_back(std::move(p));
}

std::vector<FieldError> cadence_problems(const services::ValidationRequest& r) {
  std::vector<FieldError> out;
  const Json& steps = r.after.value("steps", Json());
  if (!steps.is_array() || steps.empty() || steps.size() > 20) return {{"/steps", "must be an array of 1 to 20 steps"}};
  std::int64_t last_delay = 0;
  bool sends = false;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    step_problems(r.tx, r.context.tenant_id, steps[i], "/steps/" + std::to_string(i), last_delay, out);
    sends = sends || (steps[i].is_object() && steps[i].value("type", "") != "task");
  }
  const Json& purpose = r.after.value("purpose", Json());
  if (sends && !purpose.is_string())
    out.push_back({"/purpose", "a cadence that sends messages names the purpose its contacts consented to"});
  if (purpose.is_string()) try {
      services::require_known_purpose(r.tx, r.context.tenant_id, purpose, "/purpose");
    } catch (const Error& e) {
      out.push_back({"/purpose", e.what(), e.fields().empty() ? "" : e.fields()[0].code});
    }
  const Json& hours = r.after.value("working_hours", Json::object());
  const Json start = hours.value("start", Json()), end = hours.value("end", Json());
  bool days_ok = !hours.contains("days") || (hours["days"].is_array() && !hours["days"].empty());
  for (const auto& d : hours.value("days", Json::array()))
    days_ok = days_ok && d.is_number_integer() && d.get<int>() >= 0 && d.get<int>() <= 6;
  if (!start.is_number_integer() || !end.is_number_integer() || start.get<int>() < 0 || end.get<int>() > 24 ||
      start.get<int>() >= end.get<int>() || hours.size() != (hours.contains("days") ? 3u : 2u) || !days_ok)
    out.push_back({"/working_hours", "must be {\"start\": 9, \"end\": 18, \"days\"?: [1, 2, 3, 4, 5]}: whole hours, "
                                     "start before end, 0 to 24; days 0 (Sunday) to 6 (Saturday), Monday to Friday "
                                     "when absent"});
  const Json& gap = r.after.value("gap_hours", Json(24));
  if (!gap.is_number_integer() || gap.get<std::int64_t>() < 0 || gap.get<std::int64_t>() > 720)
    out.push_back({"/gap_hours", "must be a whole number of hours from 0 to 720"});
  return out;
}

Json live(RecordService& records, const CallContext& ctx, const std::string& type, const Json& id) {
  if (!id.is_string()) return Json();
  try {
    Json r = records.get(ctx, type, id.get<std::string>());
    return r["archived_at"].is_null() ? r : Json();
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_found) return Json();
    throw;
  }
}

// Whose clock a step reads: the owner's time zone, else the tenant's.
std::string zone_of(services::ServiceDependencies deps, const CallContext& ctx, const Json& owner) {
  std::string zone = owner.is_object() ? owner.value("time_zone", "") : "";
  return is_time_zone(zone) ? zone : services::TenantService(deps).time_zone_of(ctx.tenant_id);
}

// When the contact last got a message from the tenant, on any channel (none: 0).
std::int64_t last_message_to(RecordService& records, const CallContext& ctx, const std::string& contact_id) {
  Json body = {{"filter_groups", {{{"filters", {{{"field", "contact_id"}, {"op", "eq"}, {"value", contact_id}},
                                                {{"field", "direction"}, {"op", "eq"}, {"value", "outbound"}}}}}}},
               {"sort", {{{"field", "created_at"}, {"direction", "desc"}}}},
               {"limit", 1}};
  for (const auto& text : records.search(ctx, "interaction", body, Json(), 1).records) {
    Json i = Json::parse(text);
    const Json& at = i["occurred_at"].is_string() ? i["occurred_at"] : i["created_at"];
    return parse_rfc3339(at.get<std::string>())->micros;
  }
  return 0;
}

// The working days of a cadence's working_hours as weekday bits (Monday to Friday unless it says).
unsigned working_days(const Json& hours) {
  if (!hours.contains("days")) return monday_to_friday;
  unsigned bits = 0;
  for (const auto& d : hours["days"]) bits |= 1U << d.get<int>();
  return bits;
}

bool refused_for(const Error& e, const std::string& code) {
  for (const auto& f : e.fields())
    if (f.code == code) return true;
  return false;
}

struct AlreadyDone {};

enum class Outcome { done, postponed, retried, stopped };

// Runs one due enrolment's step.
Outcome run_step(services::ServiceDependencies deps, const CallContext& ctx, const ChannelAccess& channels, const Json& e) {
  services::CadenceEnrolmentService enrolments(deps);
  RecordService records(deps);
  const std::string id = e["id"];
  const int index = e["step"];
  auto stop = [&](const std::string& reason) {
    enrolments.stop(ctx, "id", id, reason);
    return Outcome::stopped;
  };
  Json cadence = live(records, ctx, "cadence", e["cadence_id"]);
  if (cadence.is_null() || !cadence.value("active", true)) return stop("cadence_inactive");
  const Json& steps = cadence["steps"];
  Json contact = live(records, ctx, "contact", e["contact_id"]);
  if (contact.is_null() || !contact.value("erased_at", Json()).is_null()) return stop("contact_gone");
  Json deal = live(records, ctx, "deal", e["deal_id"]);
  if (e["deal_id"].is_string() && (deal.is_null() || deal.value("status", "open") != "open")) return stop("deal_closed");
  const Timestamp now = ctx.now();
  if (static_cast<std::size_t>(index) >= steps.size()) {
    enrolments.advance(ctx, id, index, {{"skipped", "the cadence has fewer steps now"}}, std::nullopt);
    return Outcome::done;
  }
  const Json& step = steps[static_cast<std::size_t>(index)];
  Json owner = live(records, ctx, "user", e["owner_id"]);
  const std::string zone = zone_of(deps, ctx, owner);
  const Json hours = cadence.value("working_hours", Json{{"start", 9}, {"end", 18}});
  Timestamp open = within_working_hours(now, zone, hours["start"], hours["end"], working_days(hours));
  if (open.micros > now.micros) {
    enrolments.postpone(ctx, id, index, open, "outside working hours");
    return Outcome::postponed;
  }
  if (step["type"] != "task") {
    std::int64_t free_at = last_message_to(records, ctx, e["contact_id"]) + cadence.value("gap_hours", 24) * micros_per_hour;
    if (free_at > now.micros) {
      enrolments.postpone(ctx, id, index,
                          within_working_hours(Timestamp{free_at}, zone, hours["start"], hours["end"], working_days(hours)),
                          "the contact got a message less than gap_hours ago");
      return Outcome::postponed;
    }
  }
  Scopes scopes{{"contact", contact}, {"deal", deal}, {"owner", owner},
                {"account", live(records, ctx, "account",
                                 deal.is_object() ? deal.value("account_id", Json()) : contact.value("account_id", Json()))}};
  std::optional<Timestamp> next;
  if (static_cast<std::size_t>(index) + 1 < steps.size())
    next = step_due_at(cadence, static_cast<std::size_t>(index) + 1, *parse_rfc3339(e["enrolled_at"].get<std::string>()),
                       zone, Timestamp{now.micros + 1});
  auto send = [&](bool as_template) {
    Json done;
    deps.database.in_one_transaction(ctx.tenant_id, [&] {
      if (step["type"] == "task") {
        Json assignee = assignee_of(records, ctx, step.value("assignee", Json{{"rule", "owner"}}), e["owner_id"]).value_or(Json());
        Timestamp due = business_day_at(now, zone, step.value("due_in_business_days", 0), checklist_due_hour);
        if (due <= now) due = business_day_at(now, zone, step.value("due_in_business_days", 0) + 1, checklist_due_hour);
        Json task = {{"title", render_template(step["title"], scopes)}, {"due_at", format_rfc3339(due)},
                     {"assignee_id", assignee.is_object() ? assignee["id"] : Json()}, {"kind", "follow_up"},
                     {"origin_rule", "cadence:" + e["cadence_id"].get<std::string>()},
                     {"contact_id", e["contact_id"]}, {"deal_id", e["deal_id"]},
                     {"account_id", scopes["account"].is_object() ? scopes["account"]["id"] : Json()}};
        done["task_id"] = records.create(ctx, "task", task).record["id"];
      } else if (step["type"] == "proposal") {
        if (channels.jobs == nullptr) throw Error(ErrorCode::unavailable, "this node sends no channel messages");
        services::ProposalService proposals(deps);
        std::string proposal = e["deal_id"].is_string() ? proposals.open_proposal_of(ctx, e["deal_id"]) : "";
        if (proposal.empty()) {
          done["skipped"] = "no proposal open on the deal";
        } else {
          Json body = {{"channel_account_id", step["channel_account_id"]}, {"purpose", cadence["purpose"]},
                       {"contact_id", e["contact_id"]}};
          if (step.contains("message")) body["message"] = render_template(step["message"], scopes);
          Json sent = proposals.send(ctx, proposal, body, std::nullopt, {channels.jobs, channels.traits_of});
          done["proposal_id"] = proposal;
          done["interaction_id"] = sent["message"]["id"];
        }
      } else {
        if (channels.jobs == nullptr) throw Error(ErrorCode::unavailable, "this node sends no channel messages");
        Json body = {{"channel_account_id", step["channel_account_id"]}, {"purpose", cadence["purpose"]}};
        if (as_template || !step.contains("text")) body["template"] = render_strings(step["template"], scopes);
        else body["text"] = render_template(step["text"], scopes);
        if (step.contains("subject")) body["subject"] = render_template(step["subject"], scopes);
        if (e["deal_id"].is_string()) body["deal_id"] = e["deal_id"];
        done["interaction_id"] = services::ConversationService(deps)
                                     .send(ctx, *channels.jobs, e["contact_id"], body, channels.traits_of)["id"];
      }
      if (!enrolments.advance(ctx, id, index, done, next)) throw AlreadyDone{};
    });
  };
  try {
    try {
      send(false);
    } catch (const Error& first) {
      // Past WhatsApp's 24-hour window only a template goes: the step's, when it has one.
      if (!refused_for(first, "outside_reply_window") || !step.contains("template")) throw;
      send(true);
    }
    return Outcome::done;
  } catch (const AlreadyDone&) {
    return Outcome::done;
  } catch (const Error& error) {
    if (refused_for(error, "no_legal_basis") || refused_for(error, "unknown_purpose")) return stop("consent_revoked");
    const int attempts = e["attempts"].get<int>() + 1;
    if (!retryable(error.code()) && error.code() != ErrorCode::conflict)
      return stop(std::string("step_failed: ") + error.what());
    if (attempts >= max_step_attempts) return stop(std::string("step_failed after retries: ") + error.what());
    std::int64_t wait = events::backoff_micros(std::chrono::minutes(1), std::chrono::hours(1), attempts);
    enrolments.retry_later(ctx, id, index, error.what(), Timestamp{now.micros + wait});
    return Outcome::retried;
  }
}

}  // namespace

void register_cadence_checks(services::ValidatorRegistry& validators) {
  validators.add("cadences", "cadence", cadence_problems);
}

Timestamp step_due_at(const Json& cadence, std::size_t index, Timestamp enrolled_at, const std::string& zone,
                      Timestamp not_before) {
  const Json& hours = cadence.value("working_hours", Json{{"start", 9}, {"end", 18}});
  std::int64_t at = enrolled_at.micros + cadence["steps"][index].value("delay_days", 0) * micros_per_day;
  return within_working_hours(Timestamp{std::max(at, not_before.micros)}, zone, hours["start"], hours["end"],
                              working_days(hours));
}

Json enrol_contact(services::ServiceDependencies deps, const CallContext& ctx, const std::string& cadence_id,
                   const std::string& contact_id, const std::string& deal_id) {
  RecordService records(deps);
  Json cadence = records.get(ctx, "cadence", cadence_id);
  Json contact = records.get(ctx, "contact", contact_id);
  Json deal = deal_id.empty() ? Json() : records.get(ctx, "deal", deal_id);
  Json owner = live(records, ctx, "user", deal.is_object() ? deal.value("owner_id", Json()) : contact.value("owner_id", Json()));
  Timestamp first = step_due_at(cadence, 0, ctx.now(), zone_of(deps, ctx, owner), ctx.now());
  return services::CadenceEnrolmentService(deps).enrol(ctx, cadence_id, contact_id, deal_id, first);
}

Json run_due_steps(services::ServiceDependencies deps, const CallContext& ctx, const ChannelAccess& channels,
                   std::size_t limit) {
  std::map<Outcome, int> counts;
  std::optional<Error> retry;
  for (const auto& e : services::CadenceEnrolmentService(deps).due(ctx, ctx.now(), limit)) {
    try {
      ++counts[run_step(deps, ctx, channels, e)];
    } catch (const Error& error) {
      if (!retry) retry = error;  // the next run tries it again; the others go on
    }
  }
  if (retry) throw *retry;
  return {{"done", counts[Outcome::done]}, {"postponed", counts[Outcome::postponed]},
          {"retried", counts[Outcome::retried]}, {"stopped", counts[Outcome::stopped]}};
}

events::JobDefinition cadence_steps_job(services::ServiceDependencies deps, const Clock& clock, ChannelAccess channels,
                                        const std::string& schedule) {
  events::JobDefinition job;
  job.name = cadence_steps_job_name;
  job.schedule = events::Schedule::parse(schedule);
  job.run = [deps, &clock, channels](const Json& row) -> std::string {
    CallContext ctx;
    ctx.tenant_id = row.at("tenant_id").get<std::string>();
    ctx.actor = {"system", cadence_steps_job_name, ""};
    ctx.request_id = row.value("job_id", "");
    ctx.clock = &clock;
    run_due_steps(deps, ctx, channels, 500);
    return "";
  };
  return job;
}

namespace {

// The context an event's handling acts in: the system, caused by the event.
CallContext context_of(const Json& envelope, const Clock& clock) {
  CallContext ctx;
  ctx.tenant_id = envelope.value("tenant_id", "");
  ctx.actor = {"system", "kernel:cadences", ""};
  ctx.request_id = envelope.value("id", "");
  ctx.clock = &clock;
  ctx.causation_id = envelope.value("id", "");
  ctx.depth = envelope.value("depth", 0) + 1;
  return ctx;
}

const Json& record_of(const Json& envelope) {
  static const Json none;
  auto data = envelope.find("data");
  if (data == envelope.end() || !data->is_object()) return none;
  auto record = data->find("record");
  return record == data->end() ? none : *record;
}

// A reply on any channel ends every cadence the contact is in: an inbound interaction
// with a contact. What the event found is stopped: a rule that enrols on this very event
// is not undone by it.
bool is_reply(const Json& envelope) {
  const Json& record = record_of(envelope);
  return envelope.value("name", "") == "interaction.logged" && record.is_object() &&
         record.value("direction", "") == "inbound" && record.value("contact_id", Json()).is_string();
}

std::string stop_on(services::ServiceDependencies deps, const Clock& clock, const Json& envelope) {
  const std::string name = envelope.value("name", "");
  const Json& record = record_of(envelope);
  if (name != "deal.stage_changed" && !is_reply(envelope)) return "";
  if (!record.is_object()) return "";
  CallContext ctx = context_of(envelope, clock);
  services::CadenceEnrolmentService enrolments(deps);
  auto at = parse_rfc3339(envelope.value("occurred_at", ""));
  try {
    if (name == "interaction.logged")
      enrolments.stop(ctx, "contact_id", record["contact_id"], "replied", "", at);
    else
      enrolments.stop(ctx, "deal_id", record.value("id", ""),
                      record.value("status", "open") == "open" ? "stage_changed" : "deal_closed", "", at);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A pass's events: replies in a row are stopped together, a tenant's in one transaction
// (a mailbox's sync logs thousands in a minute: one transaction each was four statements
// a message); anything else in between goes on its own, in order.
std::vector<std::string> stop_on_many(services::ServiceDependencies deps, const Clock& clock,
                                      const std::vector<Json>& envelopes) {
  std::vector<std::string> errors(envelopes.size());
  std::map<std::string, std::vector<std::size_t>> replies_by_tenant;
  auto stop_replies = [&] {
    for (const auto& [tenant, indices] : replies_by_tenant) {
      std::vector<services::CadenceEnrolmentService::Reply> replies;
      for (std::size_t i : indices)
        replies.push_back({context_of(envelopes[i], clock), record_of(envelopes[i])["contact_id"],
                           parse_rfc3339(envelopes[i].value("occurred_at", ""))});
      try {
        services::CadenceEnrolmentService(deps).stop_replied(replies, "replied");
      } catch (const Error& e) {
        for (std::size_t i : indices) errors[i] = e.what();
      }
    }
    replies_by_tenant.clear();
  };
  for (std::size_t i = 0; i < envelopes.size(); ++i) {
    if (is_reply(envelopes[i])) {
      replies_by_tenant[envelopes[i].value("tenant_id", "")].push_back(i);
      continue;
    }
    stop_replies();
    errors[i] = stop_on(deps, clock, envelopes[i]);
  }
  stop_replies();
  return errors;
}

}  // namespace

events::Subscriber cadence_stops_subscriber(services::ServiceDependencies deps, const Clock& clock) {
  return {"kernel:cadences", "*", [deps, &clock](const Json& envelope) { return stop_on(deps, clock, envelope); },
          [deps, &clock](const std::vector<Json>& envelopes) { return stop_on_many(deps, clock, envelopes); }};
}

}  // namespace nucleo::automation
