// Proposal renders per second (issue #32): a 3-page proposal (38 line items with accents)
// to PDF — the kernel's cairo/pango layout — beside the same document to HTML only (the
// Mustache template), in the same process, one thread.
//   render_throughput [SECONDS_EACH]   → "pdf_renders pdf_per_s html_renders html_per_s pdf_bytes"
#include <chrono>
#include <cstdio>
#include <string>

#include "kernel/documents/proposal_render.hpp"

using nucleo::documents::Json;

namespace {

Json three_page_document() {
  Json items = Json::array();
  for (int i = 0; i < 38; ++i)
    items.push_back({{"description", "Cateter intravenoso periférico nº " + std::to_string(i + 1) +
                                         " — calibre 22G, embalagem estéril com 50 unidades (ação contínua)"},
                     {"unit", "caixa"},
                     {"quantity", 10},
                     {"unit_price", 1500000},
                     {"discount_percent", 5},
                     {"amount", 15000000},
                     {"discount", 750000},
                     {"total", 14250000}});
  return {{"proposal",
           {{"id", "prop_01kv0s48qnen881s733vqg7sqh"},
            {"title", "Fornecimento de cateteres — Hospital São João"},
            {"revision", 1},
            {"currency", "BRL"},
            {"lines", items},
            {"subtotal", 570000000},
            {"discount_total", 28500000},
            {"total", 541500000},
            {"valid_until", "2026-12-31"},
            {"payment_terms", "30/60/90 dias após a entrega, mediante nota fiscal."},
            {"notes", "Preços válidos para entrega em São Paulo; frete CIF."},
            {"attributes", Json::object()}}},
          {"account", {{"legal_name", "Associação Hospitalar São João"}, {"tax_id", "11222333000181"}, {"tax_id_kind", "cnpj"}}},
          {"deal", {{"id", "deal_01kv0s48qnen881s733vqg7sqh"}, {"name", "Cateteres 2027"}}},
          {"seller", {{"name", "Conceição Araújo"}, {"email", "conceicao@example.com"}}},
          {"tenant", {{"name", "Distribuidora Açaí Ltda."}}},
          {"issued_on", "2026-12-02"},
          {"template", nucleo::documents::default_proposal_template()}};
}

// Renders with `render` for `seconds`; returns {renders, seconds taken, bytes of the last}.
template <class Render>
std::tuple<long, double, std::size_t> measure(double seconds, Render render) {
  using clock = std::chrono::steady_clock;
  auto start = clock::now();
  long n = 0;
  std::size_t bytes = 0;
  double elapsed = 0;
  do {
    bytes = render().size();
    ++n;
    elapsed = std::chrono::duration<double>(clock::now() - start).count();
  } while (elapsed < seconds);
  return {n, elapsed, bytes};
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::stod(argv[1]) : 10;
  Json document = three_page_document();
  nucleo::documents::render_proposal_pdf(document);  // fonts found and cached once, as a server does
  auto [pdf_n, pdf_s, pdf_bytes] = measure(seconds, [&] { return nucleo::documents::render_proposal_pdf(document); });
  auto [html_n, html_s, html_bytes] = measure(seconds, [&] { return nucleo::documents::render_proposal_html(document); });
  (void)html_bytes;
  std::printf("%ld %.1f %ld %.1f %zu\n", pdf_n, pdf_n / pdf_s, html_n, html_n / html_s, pdf_bytes);
}
