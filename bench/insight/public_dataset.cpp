// Issue #33: the insight model's backtest on a public B2B CRM data set — Maven Analytics'
// "CRM + Sales + Opportunities" (8,800 opportunities of a fictitious computer-hardware
// seller, Oct 2016 – Dec 2017: agent, product, account, stage, engage and close dates,
// close value; https://mavenanalytics.io/data-playground). The files are not in this
// repository (docs/insight.md, "Measured accuracy", says why); give their folder:
//
//   insight_public_dataset DIR [AS_OF [FOLDS [HORIZON_DAYS]]]   (2017-10-01 4 30)
//
// DIR holds sales_pipeline.csv, and products.csv (list prices: each deal's amount), accounts.csv (revenue, employees) and sales_teams.csv (agent → manager).
// Dates may be YYYY-MM-DD or DD-MM-YY (copies differ). Prospecting rows carry no date and
// are left out. The stages' declared probabilities are what a team would have set from its
// own past: each stage's win rate among deals closed before the earliest fold.
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "engine.hpp"

using namespace insight;

namespace {

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) {
      out.push_back(field);
      field.clear();
    } else if (c != '\r') field += c;
  }
  out.push_back(field);
  return out;
}

// Rows of a CSV file keyed by its header; empty when the file is absent.
std::vector<std::map<std::string, std::string>> read_csv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::map<std::string, std::string>> rows;
  std::string line;
  if (!in || !std::getline(in, line)) return rows;
  auto header = split_csv_line(line);
  while (std::getline(in, line)) {
    auto fields = split_csv_line(line);
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size() && i < fields.size(); ++i) row[header[i]] = fields[i];
    rows.push_back(std::move(row));
  }
  return rows;
}

// YYYY-MM-DD or DD-MM-YY as micros; -1 when empty.
std::int64_t date(const std::string& text) {
  if (text.empty()) return -1;
  if (text.size() == 8 && text[2] == '-')
    return day_start_micros("20" + text.substr(6, 2) + "-" + text.substr(3, 2) + "-" + text.substr(0, 2));
  return day_start_micros(text.substr(0, 10));
}

double number(const std::string& text) { return text.empty() ? 0 : std::stod(text); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: insight_public_dataset DIR [AS_OF [FOLDS [HORIZON_DAYS]]]\n");
    return 2;
  }
  std::string dir = argv[1];
  std::int64_t as_of = day_start_micros(argc > 2 ? argv[2] : "2017-10-01");
  int folds = argc > 3 ? std::atoi(argv[3]) : 4;
  Settings settings;
  settings.horizon_days = argc > 4 ? std::atoi(argv[4]) : 30;
  settings.training.threads = 2;
  std::int64_t earliest = as_of - static_cast<std::int64_t>(folds - 1) * settings.horizon_days * micros_per_day;

  auto pipeline = read_csv(dir + "/sales_pipeline.csv");
  if (pipeline.empty()) {
    std::fprintf(stderr, "cannot read %s/sales_pipeline.csv\n", dir.c_str());
    return 2;
  }
  std::map<std::string, double> price, revenue, employees;
  for (auto& p : read_csv(dir + "/products.csv")) price[p["product"]] = number(p["sales_price"]);
  for (auto& a : read_csv(dir + "/accounts.csv")) {
    revenue[a["account"]] = number(a["revenue"]);
    employees[a["account"]] = number(a["employees"]);
  }
  std::map<std::string, std::string> manager;
  for (auto& t : read_csv(dir + "/sales_teams.csv")) manager[t["sales_agent"]] = t["manager"];

  // The stages' declared probabilities: the win rate of deals closed before the first fold.
  int won_before = 0, closed_before = 0, skipped = 0;
  for (auto& r : pipeline) {
    std::int64_t closed = date(r["close_date"]);
    if (closed >= 0 && closed < earliest && (r["deal_stage"] == "Won" || r["deal_stage"] == "Lost")) {
      ++closed_before;
      won_before += r["deal_stage"] == "Won";
    }
  }
  int engaging_probability = closed_before ? static_cast<int>(100.0 * won_before / closed_before + 0.5) : 50;

  History h;
  auto stage = [&](const char* id, int position, int probability, const char* kind) {
    h.add({{"kind", "stage"}, {"id", id}, {"pipeline_id", "pip"}, {"position", position}, {"probability", probability},
           {"stage_kind", kind}, {"rot_days", nullptr}, {"criteria", 0}});
  };
  stage("engaging", 1, engaging_probability, "open");
  stage("won", 2, 100, "won");
  stage("lost", 3, 0, "lost");
  for (const auto& [agent, boss] : manager) h.add({{"kind", "user"}, {"id", agent}, {"team_ids", {boss}}});
  std::vector<Json> stays;
  for (auto& r : pipeline) {
    std::int64_t engaged = date(r["engage_date"]), closed = date(r["close_date"]);
    if (engaged < 0) {
      ++skipped;  // Prospecting: no date to place it in time
      continue;
    }
    bool won = r["deal_stage"] == "Won", lost = r["deal_stage"] == "Lost";
    // The list price: what was known while the deal was open. The close value is known
    // only for won deals (lost ones say 0), so using it would tell the model the outcome.
    double amount = price[r["product"]];
    h.add({{"kind", "deal"}, {"id", r["opportunity_id"]}, {"account_id", r["account"]}, {"pipeline_id", "pip"},
           {"stage_id", won ? "won" : lost ? "lost" : "engaging"}, {"owner_id", r["sales_agent"]},
           {"amount", static_cast<std::int64_t>(amount * 100)}, {"currency", "USD"}, {"status", "open"},
           {"stage_entered_at", closed >= 0 ? closed : engaged}, {"contacts", Json::array()},
           {"attributes", {{"list_price", price[r["product"]]}, {"account_revenue", revenue[r["account"]]},
                           {"account_employees", employees[r["account"]]}}},
           {"created_at", engaged}});
    stays.push_back({{"kind", "deal_stage_history"}, {"deal_id", r["opportunity_id"]}, {"stage_id", "engaging"},
                     {"entered_at", engaged}, {"left_at", closed >= 0 ? Json(closed) : Json()}});
    if (closed >= 0 && (won || lost))
      stays.push_back({{"kind", "deal_stage_history"}, {"deal_id", r["opportunity_id"]}, {"stage_id", won ? "won" : "lost"},
                       {"entered_at", closed}, {"left_at", nullptr}});
  }
  for (const auto& s : stays) h.add(s);
  h.finish();

  std::printf("Maven Analytics CRM Sales Opportunities: %zu opportunities, %d without a date left out, %zu closed;"
              " declared probability of Engaging %d%% (win rate before %s)\n",
              pipeline.size(), skipped, h.closed_deals(), engaging_probability, rfc3339(earliest).substr(0, 10).c_str());
  std::printf("%-12s %7s %7s %8s %8s %13s %13s %13s %8s %8s %s\n", "as_of", "trained", "scored", "brier", "base_b",
              "actual", "expected", "stage_wtd", "ape", "base_ape", "covered");
  double brier = 0, base = 0, ape = 0, base_ape = 0;
  int ok = 0, forecasts = 0, covered = 0;
  for (int k = 0; k < folds; ++k) {
    std::int64_t at = as_of - static_cast<std::int64_t>(k) * settings.horizon_days * micros_per_day;
    Json r = backtest(h, at, settings);
    if (r["status"] != "ok") {
      std::printf("%-12s not enough history (%s closed)\n", rfc3339(at).substr(0, 10).c_str(), r["closed_deals"].dump().c_str());
      continue;
    }
    const Json& w = r["win_probability"];
    const Json& f = r["forecast"];
    ++ok;
    brier += w["brier"].get<double>();
    base += w["baseline_brier"].get<double>();
    if (f["absolute_percentage_error"].is_number()) {
      ++forecasts;
      ape += f["absolute_percentage_error"].get<double>();
      base_ape += f["baseline_absolute_percentage_error"].get<double>();
      covered += f["covered"].get<bool>();
    }
    std::printf("%-12s %7s %7s %8.4f %8.4f %13.0f %13.0f %13.0f %8s %8s %s\n", rfc3339(at).substr(0, 10).c_str(),
                r["trained_on"]["closed_deals"].dump().c_str(), r["deals_scored"].dump().c_str(), w["brier"].get<double>(),
                w["baseline_brier"].get<double>(), f["actual"].get<double>() / 100, f["expected"].get<double>() / 100,
                f["stage_weighted"].get<double>() / 100, f["absolute_percentage_error"].dump().substr(0, 6).c_str(),
                f["baseline_absolute_percentage_error"].dump().substr(0, 6).c_str(), f["covered"].get<bool>() ? "yes" : "no");
  }
  if (ok)
    std::printf("mean over %d folds: brier %.4f (stage-weighted %.4f); forecast MAPE %.3f (stage-weighted %.3f);"
                " 80%% interval held the actual in %d of %d folds\n",
                ok, brier / ok, base / ok, forecasts ? ape / forecasts : 0, forecasts ? base_ape / forecasts : 0, covered,
                forecasts);
  return 0;
}
