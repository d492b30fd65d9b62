// Proposal totals against an independent computation: exact rationals (Boost.Multiprecision)
// rounded half up, over generated line items (docs/proposals.md "Totals and rounding").
#include <gtest/gtest.h>

#include <boost/multiprecision/cpp_int.hpp>

#include <random>

#include "kernel/documents/money.hpp"
#include "kernel/documents/proposal_pricing.hpp"

namespace nucleo::documents {
namespace {

using boost::multiprecision::cpp_int;
using boost::multiprecision::cpp_rational;

// The nearest integer to a non-negative rational, halves rounded up.
std::int64_t round_half_up(const cpp_rational& r) {
  cpp_rational shifted = r + cpp_rational(1, 2);
  cpp_int floor = boost::multiprecision::numerator(shifted) / boost::multiprecision::denominator(shifted);
  return floor.convert_to<std::int64_t>();
}

TEST(ProposalPricing, TotalsMatchExactRationalArithmeticOverGeneratedLines) {
  std::mt19937_64 random(20261205);
  for (int proposal = 0; proposal < 2000; ++proposal) {
    Json lines = Json::array();
    std::int64_t subtotal = 0, discounts = 0;
    std::vector<std::int64_t> expected_totals;
    int count = 1 + static_cast<int>(random() % 12);
    for (int i = 0; i < count; ++i) {
      // Quantities with 0–3 decimal places written as a person would type them.
      std::int64_t milli = 1 + static_cast<std::int64_t>(random() % 5'000'000);
      int places = static_cast<int>(random() % 4);
      std::int64_t unit = places == 0 ? 1000 : places == 1 ? 100 : places == 2 ? 10 : 1;
      milli = std::max<std::int64_t>(unit, milli - milli % unit);
      std::int64_t price = static_cast<std::int64_t>(random() % 100'000'000);
      Json line = {{"description", "item"}, {"unit_price", price}};
      if (places == 0)
        line["quantity"] = milli / 1000;
      else
        line["quantity"] = std::stod(std::to_string(milli / 1000) + "." +
                                     [&] { std::string f = std::to_string(1000 + milli % 1000).substr(1); return f; }());
      cpp_rational amount_exact = cpp_rational(milli, 1000) * price;
      std::int64_t amount = round_half_up(amount_exact);
      std::int64_t discount = 0;
      switch (random() % 3) {
        case 0: break;
        case 1: {
          std::int64_t hundredths = static_cast<std::int64_t>(random() % 10001);
          line["discount_percent"] = hundredths % 100 == 0 ? Json(hundredths / 100)
                                                           : Json(static_cast<double>(hundredths) / 100.0);
          discount = round_half_up(cpp_rational(amount) * cpp_rational(hundredths, 10000));
          break;
        }
        default:
          discount = amount == 0 ? 0 : static_cast<std::int64_t>(random() % static_cast<std::uint64_t>(amount + 1));
          line["discount_amount"] = discount;
      }
      subtotal += amount;
      discounts += discount;
      expected_totals.push_back(amount - discount);
      lines.push_back(line);
    }
    std::vector<FieldError> errors;
    PricedProposal priced = price_lines(lines, errors);
    ASSERT_TRUE(errors.empty()) << lines.dump() << " " << errors.front().field << " " << errors.front().message;
    ASSERT_EQ(priced.subtotal, subtotal) << lines.dump();
    ASSERT_EQ(priced.discount_total, discounts) << lines.dump();
    ASSERT_EQ(priced.total, subtotal - discounts) << lines.dump();
    for (std::size_t i = 0; i < expected_totals.size(); ++i) ASSERT_EQ(priced.lines[i].total, expected_totals[i]);
  }
}

TEST(ProposalPricing, HalvesRoundUpToTheMinorUnit) {
  std::vector<FieldError> errors;
  // 0,5 × 1 centavo = 0,5 → 1; 10% of 5 centavos = 0,5 → 1; 1,5% of 100 = 1,5 → 2.
  auto priced = price_lines(Json::parse(R"([{"quantity": 0.5, "unit_price": 1},
                                             {"quantity": 1, "unit_price": 5, "discount_percent": 10},
                                             {"quantity": 1, "unit_price": 100, "discount_percent": 1.5}])"),
                            errors);
  ASSERT_TRUE(errors.empty());
  EXPECT_EQ(priced.lines[0].amount, 1);
  EXPECT_EQ(priced.lines[1].discount, 1);
  EXPECT_EQ(priced.lines[2].discount, 2);
  EXPECT_EQ(priced.total, 1 + 4 + 98);
}

TEST(ProposalPricing, BadLinesAreNamedByJsonPointer) {
  std::vector<FieldError> errors;
  price_lines(Json::parse(R"([{"quantity": 1, "unit_price": 100},
                              {"quantity": -2, "unit_price": 100},
                              {"quantity": 1.0001, "unit_price": 10},
                              {"quantity": 1, "unit_price": 10.5},
                              {"quantity": 1, "unit_price": 100, "discount_percent": 101},
                              {"quantity": 1, "unit_price": 100, "discount_amount": 101},
                              {"quantity": 1, "unit_price": 100, "discount_amount": 1, "discount_percent": 1},
                              "a line"])"),
              errors);
  std::vector<std::string> fields;
  for (const auto& e : errors) fields.push_back(e.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"/lines/1/quantity", "/lines/2/quantity", "/lines/3/unit_price",
                                              "/lines/4/discount_percent", "/lines/5/discount_amount",
                                              "/lines/6/discount_amount", "/lines/7"}));
}

TEST(ProposalPricing, AnAmountBeyondWhatJsonCarriesIsRefused) {
  std::vector<FieldError> errors;
  price_lines(Json::parse(R"([{"quantity": 1000000000, "unit_price": 9007199254740}])"), errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "/lines/0/quantity");
}

TEST(Money, IsWrittenAsABrazilianReadsIt) {
  EXPECT_EQ(format_money(150000000, "BRL"), "R$ 1.500.000,00");
  EXPECT_EQ(format_money(5, "BRL"), "R$ 0,05");
  EXPECT_EQ(format_money(-1250, "USD"), "-US$ 12,50");
  EXPECT_EQ(format_money(1200, "JPY"), "JPY 1.200");
  EXPECT_EQ(format_money(1234, "KWD"), "KWD 1,234");
  EXPECT_EQ(format_quantity(2500), "2,5");
  EXPECT_EQ(format_quantity(1000000), "1.000");
  EXPECT_EQ(format_quantity(1), "0,001");
  EXPECT_EQ(format_percent(1050), "10,5%");
  EXPECT_EQ(format_date("2026-12-02"), "02/12/2026");
}

}  // namespace
}  // namespace nucleo::documents
