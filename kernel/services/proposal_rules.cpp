// The rules of proposals and proposal templates (docs/proposals.md).
#include "kernel/services/proposal_rules.hpp"

#include <set>

#include "kernel/documents/proposal_pricing.hpp"
#include "kernel/documents/proposal_render.hpp"
#include "kernel/domain/base64.hpp"
#include "kernel/store/record_table.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

constexpr std::size_t max_lines = 500;
constexpr std::size_t max_logo_bytes = 256 * 1024;

std::string text_of(const Json& record, const std::string& field) {
  const Json& v = record.value(field, Json());
  return v.is_string() ? v.get<std::string>() : std::string();
}

std::string line_pointer(std::size_t i, const std::string& field) {
  return "/lines/" + std::to_string(i) + "/" + field;
}

// Each line's product filled in (description, price, SKU) and checked against the
// proposal's currency; keys a line does not have refused.
void resolve_lines(Write& w, Json& lines, const std::string& currency) {
  static const std::set<std::string> writable = {"product_id", "description", "unit", "quantity",
                                                 "unit_price", "discount_percent", "discount_amount"};
  static const std::set<std::string> computed = {"sku", "amount", "discount", "total"};
  if (lines.size() > max_lines)
    return void(w.errors.push_back({"/lines", "must have at most " + std::to_string(max_lines) + " lines"}));
  store::RecordTable products(entity_spec("product"));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    Json& line = lines[i];
    if (!line.is_object()) continue;  // priced below, which names it
    for (const auto& [key, value] : line.items())
      if (!writable.count(key) && !computed.count(key))
        w.errors.push_back({line_pointer(i, key), "is not a field of a line item (product_id, description, unit, "
                                                  "quantity, unit_price, discount_percent, discount_amount)"});
    for (const auto& key : computed) line.erase(key);
    const Json& product_id = line.value("product_id", Json());
    if (!product_id.is_null()) {
      auto product = product_id.is_string() ? products.find(w.tx, w.ctx.tenant_id, product_id.get<std::string>())
                                            : std::nullopt;
      if (!product || !(*product)["archived_at"].is_null()) {
        w.errors.push_back({line_pointer(i, "product_id"), "no live product " +
                                                               (product_id.is_string() ? product_id.get<std::string>()
                                                                                       : product_id.dump()) +
                                                               " in this tenant"});
        continue;
      }
      if (text_of(*product, "currency") != currency) {
        w.errors.push_back({line_pointer(i, "product_id"), "product " + product_id.get<std::string>() +
                                                               " is priced in " + text_of(*product, "currency") +
                                                               "; the proposal is in " + currency});
        continue;
      }
      if (!line.contains("description")) line["description"] = (*product)["name"];
      if (!line.contains("unit_price")) {
        if ((*product)["price"].is_null())
          w.errors.push_back({line_pointer(i, "unit_price"), "product " + product_id.get<std::string>() +
                                                                 " has no price: give the line's unit_price"});
        else
          line["unit_price"] = (*product)["price"];
      }
      if (!(*product)["sku"].is_null()) line["sku"] = (*product)["sku"];
    }
    const Json& description = line.value("description", Json());
    if (!description.is_string() || description.get<std::string>().empty() || description.get<std::string>().size() > 2000)
      w.errors.push_back({line_pointer(i, "description"), "must be 1 to 2,000 characters (or name a product)"});
    const Json& unit = line.value("unit", Json());
    if (!unit.is_null() && (!unit.is_string() || unit.get<std::string>().size() > 40))
      w.errors.push_back({line_pointer(i, "unit"), "must be at most 40 characters"});
  }
}

void price(Write& w) {
  Json lines = w.after.value("lines", Json::array());
  resolve_lines(w, lines, text_of(w.after, "currency"));
  if (!w.errors.empty()) return;
  auto priced = documents::price_lines(lines, w.errors);
  if (!w.errors.empty()) return;
  Json totals = documents::totals_json(priced, lines);
  w.after["lines"] = std::move(lines);
  for (const auto& [field, value] : totals.items()) w.after[field] = value;
}

}  // namespace

bool proposal_content_changed(const Write& w) {
  for (const char* field : {"title", "template_id", "currency", "lines", "valid_until", "payment_terms", "notes",
                            "attributes"})
    if (w.changed(field)) return true;
  return false;
}

void shape_proposal(Write& w) {
  std::string status = w.is_create() ? "draft" : text_of(w.before, "status");
  if ((status == "accepted" || status == "declined") && proposal_content_changed(w))
    throw Error(ErrorCode::conflict, "proposal " + w.id() + " was " + status + ": it cannot change; copy it into a new proposal",
                {{"status", status}});
  if (!w.is_create() && w.changed("deal_id"))
    return void(w.errors.push_back({"deal_id", "a proposal stays on its deal"}));

  auto deal = store::RecordTable(entity_spec("deal")).find(w.tx, w.ctx.tenant_id, text_of(w.after, "deal_id"));
  if (!deal || !(*deal)["archived_at"].is_null())
    return void(w.errors.push_back({"deal_id", "no live deal " + text_of(w.after, "deal_id") + " in this tenant"}));
  if (w.after.value("currency", Json()).is_null()) w.after["currency"] = (*deal)["currency"];
  if (w.after["currency"] != (*deal)["currency"])
    return void(w.errors.push_back({"currency", "the deal is in " + text_of(*deal, "currency") +
                                                    ": a proposal is in its deal's currency"}));
  if (w.is_create() && w.after.value("owner_id", Json()).is_null()) w.after["owner_id"] = (*deal)["owner_id"];

  if (w.is_create() || w.changed("lines") || w.changed("currency")) price(w);
  if (w.is_create() || !proposal_content_changed(w)) return;
  // What the customer was sent stays as it was (proposal_versions): this is the next.
  if (status == "sent") {
    w.after["revision"] = w.before.value("revision", 1) + 1;
    w.after["status"] = "draft";
  }
  w.after["approvals"] = Json::array();  // an approval is of what the approver saw
}

void check_proposal_template(Write& w) {
  for (auto& problem : documents::proposal_template_problems(w.after))
    if (w.changed(problem.field)) w.errors.push_back(std::move(problem));
  if (w.changed("logo_png")) {
    auto png = from_base64(text_of(w.after, "logo_png"));
    if (!png || png->size() > max_logo_bytes || png->compare(0, 8, "\x89PNG\r\n\x1a\n") != 0)
      w.errors.push_back({"logo_png", "must be a PNG image of at most 256 KiB, base64-encoded"});
  }
  if (!w.changed("is_default") || !w.after.value("is_default", false)) return;
  std::string other;
  store::query(w.tx.session(),
               "SELECT id FROM proposal_templates WHERE tenant_id = :p0 AND is_default = 1 AND archived_at IS NULL"
               " AND id <> :p1",
               {w.ctx.tenant_id, w.id()}, [&](const store::Row& row) { other = store::required_text(row, 0); });
  if (!other.empty())
    throw Error(ErrorCode::conflict, "template " + other + " is the tenant's default: unset it first",
                {{"is_default", "already " + other}});
}

}  // namespace nucleo::services
