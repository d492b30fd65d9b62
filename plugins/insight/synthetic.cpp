#include "synthetic.hpp"

#include <cmath>
#include <random>

#include "engine.hpp"

namespace insight::synthetic {
namespace {

constexpr double typical_amount = 5'000'000;  // R$ 50.000,00 in centavos
constexpr int open_stages = 4;
const char* const job_titles[] = {"Diretor Comercial", "Gerente de Compras", "Analista Financeiro", "Coordenador de TI",
                                  "Comprador",         "CFO",                "Engenheira de Processos", "Assistente"};

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

struct Planned {
  std::string id;
  std::int64_t created;
  int contacts;
  bool responsive;
  double amount;
  double p;
  bool won;
  int last_stage;  // 1-4: the stage it is lost from (won deals pass all four)
};

// Everything random about one deal, drawn in a fixed order so the same seed gives the
// same tenant.
Planned plan(const Process& process, std::mt19937_64& random, std::size_t i) {
  std::uniform_real_distribution<double> uniform(0, 1);
  std::normal_distribution<double> normal(0, 0.7);
  Planned d;
  d.id = "deal_" + std::to_string(i);
  // Seasonality: more deals open in some months than in others (accept-reject on the day).
  double day = 0;
  do day = uniform(random) * process.days_of_history;
  while (uniform(random) * 1.4 > 1 + 0.4 * std::cos(2 * M_PI * day / 365));
  d.created = process.now - static_cast<std::int64_t>(day * micros_per_day);
  d.contacts = 1 + static_cast<int>(uniform(random) * 4);
  d.responsive = uniform(random) < 0.5;
  d.amount = std::round(typical_amount * std::exp(normal(random)));
  d.p = sigmoid(process.base_log_odds + process.per_engaged_contact * (d.contacts - 2) +
                process.responsive * (d.responsive ? 1 : -1) + process.per_log_amount * std::log(d.amount / typical_amount));
  d.won = uniform(random) < d.p;
  d.last_stage = d.won ? open_stages : 1 + static_cast<int>(uniform(random) * open_stages);
  return d;
}

Json stage_row(const std::string& id, int position, int probability, const char* kind) {
  return {{"kind", "stage"},         {"id", id},        {"pipeline_id", "pip_1"}, {"position", position},
          {"probability", probability}, {"stage_kind", kind}, {"rot_days", 30},  {"criteria", 0}, {"archived", false}};
}

}  // namespace

std::map<std::string, double> true_probabilities(const Process& process) {
  std::mt19937_64 random(process.seed);
  std::map<std::string, double> out;
  for (std::size_t i = 0; i < process.deals; ++i) {
    Planned d = plan(process, random, i);
    out[d.id] = d.p;
  }
  return out;
}

std::vector<Json> rows(const Process& process) {
  std::vector<Json> out{{{"kind", "pipeline"}, {"id", "pip_1"}, {"archived", false}},
                        stage_row("stg_1", 1, 10, "open"),
                        stage_row("stg_2", 2, 25, "open"),
                        stage_row("stg_3", 3, 50, "open"),
                        stage_row("stg_4", 4, 75, "open"),
                        stage_row("stg_won", 5, 100, "won"),
                        stage_row("stg_lost", 6, 0, "lost")};
  for (int o = 0; o < process.owners; ++o)
    out.push_back({{"kind", "user"}, {"id", "usr_" + std::to_string(o)}, {"role", "sales"},
                   {"team_ids", {"team_" + std::to_string(o % 2)}}, {"active", true}});
  for (int a = 0; a < process.accounts; ++a)
    out.push_back({{"kind", "account"}, {"id", "acc_" + std::to_string(a)}, {"owner_id", nullptr},
                   {"lifecycle", "customer"}, {"created_at", process.now - 800 * micros_per_day},
                   {"attributes", Json::object()}, {"archived", false}});

  // Two streams: the plan of each deal (the same as true_probabilities draws), and the
  // noise of its path and conversation.
  std::mt19937_64 planner(process.seed), random(process.seed + 1);
  std::uniform_real_distribution<double> uniform(0, 1);
  auto exponential_days = [&](double mean) { return -std::log(1 - uniform(random)) * mean; };
  std::vector<Json> history, closes, interactions, tasks;
  for (std::size_t i = 0; i < process.deals; ++i) {
    Planned d = plan(process, planner, i);
    std::string account = "acc_" + std::to_string(i % static_cast<std::size_t>(process.accounts));
    std::string owner = "usr_" + std::to_string(i % static_cast<std::size_t>(process.owners));
    std::vector<std::string> contacts;
    Json deal_contacts = Json::array();
    for (int c = 0; c < d.contacts; ++c) {
      contacts.push_back("con_" + std::to_string(i) + "_" + std::to_string(c));
      deal_contacts.push_back({{"contact_id", contacts.back()}, {"role", nullptr}});
      out.push_back({{"kind", "contact"}, {"id", contacts.back()}, {"account_id", account}, {"owner_id", nullptr},
                     {"job_title", job_titles[(i + static_cast<std::size_t>(c)) % 8]}, {"created_at", d.created},
                     {"archived", false}});
    }
    // The path through the stages; a deal still open at `now` stops where it is.
    std::int64_t at = d.created;
    std::string stage = "stg_1";
    bool closed = false;
    for (int s = 1; s <= d.last_stage + 1 && at <= process.now; ++s) {
      bool final_stay = s == d.last_stage + 1;
      stage = final_stay ? (d.won ? "stg_won" : "stg_lost") : "stg_" + std::to_string(s);
      double stay_days = d.won ? exponential_days(9) : exponential_days(s == d.last_stage ? 21 : 14);
      std::int64_t left = at + static_cast<std::int64_t>(stay_days * micros_per_day);
      bool current = final_stay || left > process.now;
      history.push_back({{"kind", "deal_stage_history"}, {"deal_id", d.id}, {"stage_id", stage}, {"entered_at", at},
                         {"left_at", current ? Json() : Json(left)}});
      closed = final_stay;
      if (current) break;
      at = left;
    }
    std::int64_t active_until = closed ? at : process.now;
    // Reps expect 36 days (four stays of nine) and, while the deal stays open past the
    // date, move it three weeks later at a time — the slippage (up to four times).
    std::int64_t expected = d.created + 36 * micros_per_day;
    auto close_row = [&](std::int64_t changed_at) {
      closes.push_back({{"kind", "deal_close_history"}, {"deal_id", d.id},
                         {"expected_close", rfc3339(expected).substr(0, 10)}, {"changed_at", changed_at}});
    };
    close_row(d.created);
    for (int slip = 0; slip < 4 && expected < active_until; ++slip) {
      std::int64_t moved_at = expected;
      expected += 21 * micros_per_day;
      close_row(moved_at);
    }
    // The conversation: a responsive customer is written to, and writes back, often.
    double gap = d.responsive ? 4 : 12, inbound = d.responsive ? 0.5 : 0.15;
    int n = 0;
    for (std::int64_t t = d.created + static_cast<std::int64_t>(exponential_days(2) * micros_per_day);
         t < active_until && n < process.interactions_cap; t += static_cast<std::int64_t>(exponential_days(gap) * micros_per_day), ++n) {
      bool whatsapp = uniform(random) < 0.4;
      interactions.push_back({{"kind", "interaction"}, {"id", "int_" + std::to_string(i) + "_" + std::to_string(n)},
                              {"type", whatsapp ? "whatsapp" : "email"}, {"direction", uniform(random) < inbound ? "inbound" : "outbound"},
                              {"channel", whatsapp ? "whatsapp" : "email"}, {"occurred_at", t}, {"delivery_status", nullptr},
                              {"account_id", account}, {"contact_id", contacts[static_cast<std::size_t>(n) % contacts.size()]},
                              {"deal_id", d.id}, {"archived", false}});
    }
    // A follow-up task, done or not regardless of the outcome.
    std::int64_t due = d.created + 7 * micros_per_day;
    bool done = uniform(random) < 0.7;
    tasks.push_back({{"kind", "task"}, {"id", "tsk_" + std::to_string(i)}, {"kind_of_task", "follow_up"},
                     {"status", done ? "done" : "open"}, {"due_at", due}, {"completed_at", done ? Json(due - micros_per_day) : Json()},
                     {"created_at", d.created}, {"assignee_id", owner}, {"account_id", account}, {"contact_id", nullptr},
                     {"deal_id", d.id}, {"archived", false}});
    out.push_back({{"kind", "deal"}, {"id", d.id}, {"account_id", account}, {"pipeline_id", "pip_1"}, {"stage_id", stage},
                   {"owner_id", owner}, {"amount", static_cast<std::int64_t>(d.amount)}, {"currency", "BRL"},
                   {"expected_close", rfc3339(expected).substr(0, 10)}, {"status", closed ? (d.won ? "won" : "lost") : "open"},
                   {"lost_reason", closed && !d.won ? Json("price") : Json()}, {"stage_entered_at", history.back()["entered_at"]},
                   {"contacts", deal_contacts}, {"attributes", Json::object()}, {"created_at", d.created},
                   {"updated_at", at}, {"archived", false}});
  }
  out.insert(out.end(), history.begin(), history.end());
  out.insert(out.end(), closes.begin(), closes.end());
  out.insert(out.end(), interactions.begin(), interactions.end());
  out.insert(out.end(), tasks.begin(), tasks.end());
  return out;
}

}  // namespace insight::synthetic
