// Proposal rendering: the HTML from the template and the PDF from the kernel's layout, the
// PDF read back with poppler's pdftotext and pdfinfo (docs/proposals.md "Templates").
#include <gtest/gtest.h>

#include <cairo.h>

#include <fstream>
#include <sstream>
#include <regex>

#include "kernel/documents/proposal_render.hpp"
#include "kernel/domain/base64.hpp"
#include "tests/support/process.hpp"

namespace nucleo::documents {
namespace {

// A proposal of `lines` line items to a hospital, with accents everywhere.
Json hospital_document(int lines) {
  Json items = Json::array();
  for (int i = 0; i < lines; ++i)
    items.push_back({{"description", "Cateter intravenoso periférico nº " + std::to_string(i + 1) +
                                         " — calibre 22G, embalagem estéril com 50 unidades (ação contínua)"},
                     {"unit", "caixa"},
                     {"quantity", i % 2 == 0 ? Json(2.5) : Json(10)},
                     {"unit_price", 1500000},
                     {"discount_percent", i % 3 == 0 ? Json(10) : Json()},
                     {"amount", i % 2 == 0 ? 3750000 : 15000000},
                     {"discount", i % 3 == 0 ? (i % 2 == 0 ? 375000 : 1500000) : 0},
                     {"total", 0}});
  return {{"proposal",
           {{"id", "prop_01kv0s48qnen881s733vqg7sqh"},
            {"title", "Fornecimento de cateteres — Hospital São João"},
            {"revision", 2},
            {"currency", "BRL"},
            {"lines", items},
            {"subtotal", 150000000},
            {"discount_total", 1500000},
            {"total", 148500000},
            {"valid_until", "2026-12-31"},
            {"payment_terms", "30/60/90 dias após a entrega, mediante nota fiscal."},
            {"notes", "Preços válidos para entrega em São Paulo; frete CIF."},
            {"attributes", {{"healthcare.contract_number", "CT-2026/118"}}}}},
          {"account", {{"legal_name", "Associação Hospitalar São João"}, {"tax_id", "12ABC34501DE35"}, {"tax_id_kind", "cnpj"}}},
          {"deal", {{"id", "deal_01kv0s48qnen881s733vqg7sqh"}, {"name", "Cateteres 2027"}}},
          {"seller", {{"name", "Conceição Araújo"}, {"email", "conceicao@example.com"}}},
          {"tenant", {{"name", "Distribuidora Açaí Ltda."}}},
          {"issued_on", "2026-12-02"},
          {"template", default_proposal_template()}};
}

std::string write(const test::TempDir& dir, const std::string& name, const std::string& bytes) {
  std::string path = dir.path() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(ProposalRender, TheHtmlShowsMoneyAndDatesInPortugueseAndEscapesWhatItShows) {
  Json doc = hospital_document(2);
  doc["proposal"]["notes"] = "<script>alert(1)</script>";
  std::string html = render_proposal_html(doc);
  EXPECT_NE(html.find("R$ 1.500.000,00"), std::string::npos);
  EXPECT_NE(html.find("R$ 1.485.000,00"), std::string::npos);
  EXPECT_NE(html.find("02/12/2026"), std::string::npos);
  EXPECT_NE(html.find("12.ABC.345/01DE-35"), std::string::npos);
  EXPECT_NE(html.find("Associação Hospitalar São João"), std::string::npos);
  EXPECT_NE(html.find("2,5"), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
}

TEST(ProposalRender, ATemplateSeesAttributesAVerticalPackDeclared) {
  Json doc = hospital_document(1);
  doc["template"]["html"] = "<p>Contrato {{attributes.healthcare.contract_number}}: {{total}}</p>";
  EXPECT_NE(render_proposal_html(doc).find("<p>Contrato CT-2026/118: R$ 1.485.000,00</p>"), std::string::npos);
}

TEST(ProposalRender, ATemplateNamingAnUnknownVariableIsRefusedWhenSaved) {
  auto problems = proposal_template_problems(
      {{"html", "{{title}} {{#lines}}{{description}} {{pricee}}{{/lines}} {{account.legal_name}} {{account.nope}}"},
       {"intro", "{{deal_name}} {{intro}}"},
       {"closing", "{{#broken}}"}});
  std::vector<std::string> messages;
  for (const auto& p : problems) messages.push_back(p.field + ": " + p.message);
  ASSERT_EQ(messages.size(), 4u) << ::testing::PrintToString(messages);
  EXPECT_EQ(messages[0], "html: names an unknown variable {{pricee}}");
  EXPECT_EQ(messages[1], "html: names an unknown variable {{account.nope}}");
  EXPECT_EQ(messages[2], "intro: names an unknown variable {{intro}}");
  EXPECT_EQ(messages[3].rfind("closing: is not a valid Mustache template", 0), 0u);
  EXPECT_TRUE(proposal_template_problems(default_proposal_template()).empty());
}

TEST(ProposalRender, AThreePageProposalReadsBackWithItsAccentsAndPageNumbers) {
  test::TempDir dir;
  Json doc = hospital_document(38);
  std::string pdf = render_proposal_pdf(doc);
  ASSERT_EQ(pdf.rfind("%PDF-", 0), 0u);
  std::string path = write(dir, "proposta.pdf", pdf);
  if (const char* keep = std::getenv("KEEP_PDF")) std::ofstream(keep, std::ios::binary) << pdf;
  std::string info = test::run_checked({"/usr/bin/pdfinfo", path});
  EXPECT_TRUE(std::regex_search(info, std::regex(R"(\nPages:\s+3\n)"))) << info;
  std::string text = test::run_checked({"/usr/bin/pdftotext", "-enc", "UTF-8", path, "-"});
  for (const char* expected :
       {"Fornecimento de cateteres — Hospital São João", "Associação Hospitalar São João", "12.ABC.345/01DE-35",
        "Cateter intravenoso periférico nº 38", "R$ 1.500.000,00", "R$ 1.485.000,00", "02/12/2026", "31/12/2026",
        "Conceição Araújo", "Condições de pagamento", "30/60/90 dias após a entrega", "Página 1 de 3",
        "Página 3 de 3", "Descrição"})
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  // The table's heading is repeated on the pages it continues on.
  std::size_t headings = 0;
  for (std::size_t at = text.find("Preço unit."); at != std::string::npos; at = text.find("Preço unit.", at + 1))
    ++headings;
  EXPECT_GE(headings, 2u);
}

// A PNG of `width` × `height` in one colour, as a tenant's logo is uploaded.
std::string png_logo(int width, int height) {
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
  cairo_t* cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 0.1, 0.5, 0.2);
  cairo_paint(cr);
  cairo_destroy(cr);
  std::string png;
  cairo_surface_write_to_png_stream(
      surface,
      [](void* out, const unsigned char* data, unsigned int length) {
        static_cast<std::string*>(out)->append(reinterpret_cast<const char*>(data), length);
        return CAIRO_STATUS_SUCCESS;
      },
      &png);
  cairo_surface_destroy(surface);
  return png;
}

TEST(ProposalRender, TheTenantsLogoIsOnEveryPageOfThePdfAndAtopThePage) {
  test::TempDir dir;
  Json doc = hospital_document(38);
  doc["template"]["logo_png"] = to_base64(png_logo(240, 80));
  std::string path = write(dir, "logo.pdf", render_proposal_pdf(doc));
  std::string images = test::run_checked({"/usr/bin/pdfimages", "-list", path});
  // pdfimages lists one row per image drawn, after two heading lines: one per page.
  std::size_t rows = 0;
  std::istringstream lines(images);
  for (std::string line; std::getline(lines, line);)
    if (line.find(" image ") != std::string::npos) ++rows;
  EXPECT_EQ(rows, 3u) << images;
  EXPECT_NE(render_proposal_html(doc).find("<img class=\"logo\" src=\"data:image/png;base64,"), std::string::npos);
}

TEST(ProposalRender, TheSameDocumentRendersTheSameBytes) {
  Json doc = hospital_document(3);
  EXPECT_EQ(render_proposal_pdf(doc), render_proposal_pdf(doc));
}

}  // namespace
}  // namespace nucleo::documents
