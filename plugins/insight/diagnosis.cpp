#include "diagnosis.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine.hpp"

namespace insight {
namespace {

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

double share(double part, double whole) { return whole > 0 ? part / whole : 0; }
long percent(double fraction) { return std::lround(fraction * 100); }

struct StageFigures {
  int entered = 0, advanced = 0, won = 0, lost = 0, open_now = 0, stalled = 0;
  std::vector<double> days;  // completed stays
  int missing_amount = 0, missing_close = 0, missing_owner = 0, missing_contacts = 0;
};

// Conversion, velocity, stalls and completeness per open stage.
Json stage_figures(const History& h, std::int64_t at, std::vector<std::string>& findings) {
  std::map<std::string, StageFigures> by_stage;
  for (const auto& d : h.deals) {
    for (std::size_t i = 0; i < d.stays.size(); ++i) {
      const Stage* s = h.stage(d.stays[i].stage_id);
      if (!s || s->kind != "open" || d.stays[i].entered_at > at) continue;
      StageFigures& f = by_stage[s->id];
      ++f.entered;
      bool later = false;
      for (std::size_t j = i + 1; j < d.stays.size(); ++j) {
        const Stage* next = h.stage(d.stays[j].stage_id);
        later = later || (next && (next->kind == "won" || (next->kind == "open" && next->position > s->position)));
      }
      f.advanced += later;
      if (d.closed_at) (d.won ? f.won : f.lost) += 1;
      if (d.stays[i].left_at) f.days.push_back(static_cast<double>(*d.stays[i].left_at - d.stays[i].entered_at) / micros_per_day);
    }
    const Stage* now = h.stage(d.stage_id);
    if (!now || now->kind != "open" || d.closed_at) continue;
    StageFigures& f = by_stage[now->id];
    ++f.open_now;
    f.missing_amount += !d.amount;
    f.missing_close += d.expected_close.empty();
    f.missing_owner += d.owner_id.empty();
    f.missing_contacts += d.contact_count == 0;
  }
  Json stages = Json::array();
  for (auto& [id, f] : by_stage) {
    const Stage& s = *h.stage(id);
    double typical = median_of(f.days);
    double limit = s.rot_days ? static_cast<double>(*s.rot_days) : std::max(14.0, 2 * typical);
    for (const auto& d : h.deals)
      if (d.stage_id == id && !d.closed_at && static_cast<double>(at - d.stays.back().entered_at) / micros_per_day > limit)
        ++f.stalled;
    double observed = share(f.won, f.won + f.lost);
    stages.push_back({{"stage_id", id},
                      {"pipeline_id", s.pipeline_id},
                      {"position", s.position},
                      {"entered", f.entered},
                      {"advanced", f.advanced},
                      {"conversion", share(f.advanced, f.entered - f.open_now)},
                      {"won_after", f.won},
                      {"lost_after", f.lost},
                      {"observed_win_rate", observed},
                      {"declared_probability", s.probability},
                      {"median_days", typical},
                      {"open_deals", f.open_now},
                      {"stalled", f.stalled},
                      {"stall_limit_days", limit},
                      {"missing", {{"amount", f.missing_amount}, {"expected_close", f.missing_close},
                                   {"owner", f.missing_owner}, {"contacts", f.missing_contacts}}}});
    if (f.won + f.lost >= 20 && std::abs(observed * 100 - static_cast<double>(s.probability)) >= 15)
      findings.push_back("stage " + std::to_string(s.position) + " declares " + std::to_string(s.probability) +
                         "% but " + std::to_string(percent(observed)) + "% of the deals that reached it were won");
    if (f.open_now >= 10 && share(f.stalled, f.open_now) >= 0.3)
      findings.push_back(std::to_string(percent(share(f.stalled, f.open_now))) + "% of the open deals at stage " +
                         std::to_string(s.position) + " have waited there more than " +
                         std::to_string(std::lround(limit)) + " days");
    int incomplete = std::max({f.missing_amount, f.missing_close, f.missing_owner, f.missing_contacts});
    if (f.open_now >= 10 && share(incomplete, f.open_now) >= 0.25)
      findings.push_back(std::to_string(percent(share(incomplete, f.open_now))) + "% of the open deals at stage " +
                         std::to_string(s.position) + " lack an amount, an expected close, an owner or a contact");
  }
  std::sort(stages.begin(), stages.end(), [](const Json& a, const Json& b) {
    return a["pipeline_id"] != b["pipeline_id"] ? a["pipeline_id"] < b["pipeline_id"] : a["position"] < b["position"];
  });
  return stages;
}

Json owner_figures(const History& h, std::vector<std::string>& findings) {
  struct Owner {
    int won = 0, lost = 0, open = 0;
    std::vector<double> cycle;
  };
  std::map<std::string, Owner> owners;
  int won = 0, closed = 0;
  for (const auto& d : h.deals) {
    Owner& o = owners[d.owner_id.empty() ? "(none)" : d.owner_id];
    if (!d.closed_at) {
      ++o.open;
      continue;
    }
    (d.won ? o.won : o.lost) += 1;
    won += d.won;
    ++closed;
    o.cycle.push_back(static_cast<double>(*d.closed_at - d.created_at) / micros_per_day);
  }
  double tenant_rate = share(won, closed);
  Json out = Json::array();
  for (const auto& [id, o] : owners) {
    double rate = share(o.won, o.won + o.lost);
    out.push_back({{"owner_id", id}, {"won", o.won}, {"lost", o.lost}, {"open", o.open}, {"win_rate", rate},
                   {"median_cycle_days", median_of(o.cycle)}});
    if (o.won + o.lost >= 20 && tenant_rate - rate >= 0.15)
      findings.push_back("owner " + id + " wins " + std::to_string(percent(rate)) + "% of closed deals against the team's " +
                         std::to_string(percent(tenant_rate)) + "%");
  }
  return out;
}

Json lost_reasons(const History& h, std::vector<std::string>& findings) {
  std::map<std::string, int> reasons;
  int lost = 0;
  for (const auto& d : h.deals)
    if (d.closed_at && !d.won) {
      ++reasons[d.lost_reason.empty() ? "(none given)" : d.lost_reason];
      ++lost;
    }
  std::vector<std::pair<int, std::string>> ranked;
  for (const auto& [reason, n] : reasons) ranked.push_back({n, reason});
  std::sort(ranked.rbegin(), ranked.rend());
  Json out = Json::array();
  for (const auto& [n, reason] : ranked) out.push_back({{"reason", reason}, {"deals", n}, {"share", share(n, lost)}});
  if (!ranked.empty() && lost >= 20)
    findings.push_back("the most common reason for a lost deal is \"" + ranked.front().second + "\" (" +
                       std::to_string(percent(share(ranked.front().first, lost))) + "% of " + std::to_string(lost) + ")");
  return out;
}

// Deals talked through one channel only, contacts no account knows, and messages sent to
// people the CRM knows nothing about.
std::pair<Json, Json> silos_and_context(const History& h, std::vector<std::string>& findings) {
  int talked = 0, one_channel = 0;
  for (const auto& d : h.deals) {
    if (d.touches.size() < 3) continue;
    ++talked;
    std::set<std::string> channels;
    for (const auto& t : d.touches) channels.insert(t.channel.empty() ? t.type : t.channel);
    one_channel += channels.size() == 1;
  }
  int unlinked = 0, unlinked_one_channel = 0, incomplete_contacts = 0, messages_without_context = 0;
  int unconsented_contacts = 0, messages_without_consent = 0;
  bool consent_known = false;
  for (const auto& [id, c] : h.contacts) {
    if (c.messages == 0) continue;
    if (!c.linked) {
      ++unlinked;
      unlinked_one_channel += c.channels.size() == 1;
    }
    if ((!c.linked || !c.described) && c.outbound > 0) {
      ++incomplete_contacts;
      messages_without_context += c.outbound;
    }
    consent_known = consent_known || c.consented.has_value();
    if (c.consented == false && c.outbound > 0) {
      ++unconsented_contacts;
      messages_without_consent += c.outbound;
    }
  }
  if (talked >= 20 && share(one_channel, talked) >= 0.5)
    findings.push_back(std::to_string(percent(share(one_channel, talked))) +
                       "% of the deals with three or more interactions were worked on a single channel");
  if (unlinked >= 10)
    findings.push_back(std::to_string(unlinked) + " contacts in conversation belong to no account");
  if (messages_without_context >= 10)
    findings.push_back(std::to_string(messages_without_context) + " messages went to " + std::to_string(incomplete_contacts) +
                       " contacts with no account or no job title");
  if (messages_without_consent >= 10)
    findings.push_back(std::to_string(messages_without_consent) + " messages went to " +
                       std::to_string(unconsented_contacts) + " contacts who had granted consent for no purpose");
  Json silos{{"deals_with_3_or_more_interactions", talked},
             {"single_channel_deals", one_channel},
             {"contacts_in_conversation_without_account", unlinked},
             {"of_them_on_one_channel_only", unlinked_one_channel}};
  // Messages to contacts whose consent (as the ledger stands now) is granted for no
  // purpose: sent without a consent basis, or before one was withdrawn. Null when the
  // kernel's snapshot does not say.
  Json context{{"messages_to_incomplete_contacts", messages_without_context},
               {"incomplete_contacts_messaged", incomplete_contacts},
               {"messages_to_contacts_without_consent", consent_known ? Json(messages_without_consent) : Json()},
               {"contacts_without_consent_messaged", consent_known ? Json(unconsented_contacts) : Json()}};
  return {silos, context};
}

}  // namespace

Json diagnose(const History& history, std::int64_t at) {
  std::vector<std::string> findings;
  Json out{{"as_of", rfc3339(at)}, {"deals", history.deals.size()}, {"closed_deals", history.closed_deals()}};
  out["stages"] = stage_figures(history, at, findings);
  out["owners"] = owner_figures(history, findings);
  out["lost_reasons"] = lost_reasons(history, findings);
  auto [silos, context] = silos_and_context(history, findings);
  out["silos"] = silos;
  out["without_context"] = context;
  out["findings"] = findings;
  return out;
}

std::string diagnosis_report(const Json& d) {
  std::ostringstream r;
  r << "# Diagnosis of the sales process, " << d.value("as_of", "") << "\n\n"
    << d.value("deals", 0) << " deals, " << d.value("closed_deals", 0) << " of them won or lost.\n\n## Findings\n\n";
  if (d["findings"].empty()) r << "Nothing stands out.\n";
  for (const auto& f : d["findings"]) r << "- " << f.get<std::string>() << "\n";
  r << "\n## Stages\n\n| pipeline | stage | entered | conversion | won after | declared | median days | open | stalled |"
       " no amount | no close date |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& s : d["stages"])
    r << "| " << s["pipeline_id"].get<std::string>() << " | " << s["position"] << " | " << s["entered"] << " | "
      << percent(s["conversion"].get<double>()) << "% | " << percent(s["observed_win_rate"].get<double>()) << "% | "
      << s["declared_probability"] << "% | " << std::lround(s["median_days"].get<double>()) << " | " << s["open_deals"]
      << " | " << s["stalled"] << " | " << s["missing"]["amount"] << " | " << s["missing"]["expected_close"] << " |\n";
  r << "\n## Owners\n\n| owner | won | lost | win rate | median cycle (days) | open |\n|---|---|---|---|---|---|\n";
  for (const auto& o : d["owners"])
    r << "| " << o["owner_id"].get<std::string>() << " | " << o["won"] << " | " << o["lost"] << " | "
      << percent(o["win_rate"].get<double>()) << "% | " << std::lround(o["median_cycle_days"].get<double>()) << " | "
      << o["open"] << " |\n";
  r << "\n## Why deals are lost\n\n";
  for (const auto& l : d["lost_reasons"])
    r << "- " << l["reason"].get<std::string>() << ": " << l["deals"] << " (" << percent(l["share"].get<double>()) << "%)\n";
  const Json& s = d["silos"];
  const Json& c = d["without_context"];
  r << "\n## Silos\n\n- " << s["single_channel_deals"] << " of " << s["deals_with_3_or_more_interactions"]
    << " deals with three or more interactions worked on one channel only\n- "
    << s["contacts_in_conversation_without_account"] << " contacts in conversation belong to no account ("
    << s["of_them_on_one_channel_only"] << " of them reached on one channel only)\n"
    << "\n## Messages without context\n\n- " << c["messages_to_incomplete_contacts"] << " messages sent to "
    << c["incomplete_contacts_messaged"] << " contacts with no account or no job title\n- ";
  if (c["messages_to_contacts_without_consent"].is_null())
    r << "consent: not in this kernel's snapshot\n";
  else
    r << c["messages_to_contacts_without_consent"] << " messages sent to " << c["contacts_without_consent_messaged"]
      << " contacts who have granted consent for no purpose\n";
  return r.str();
}

}  // namespace insight
