#include "kernel/documents/proposal_render.hpp"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include <kainjow/mustache.hpp>

#include <memory>
#include <unordered_map>
#include <regex>
#include <set>

#include "kernel/documents/embedded_templates.hpp"
#include "kernel/documents/money.hpp"
#include "kernel/domain/base64.hpp"
#include "kernel/domain/html_text.hpp"

namespace nucleo::documents {
namespace {

using kainjow::mustache::data;
using kainjow::mustache::mustache;

std::string text_of(const Json& object, const char* field) {
  const Json& v = object.is_object() ? object.value(field, Json()) : Json();
  return v.is_string() ? v.get<std::string>() : std::string();
}

std::string embedded(std::string_view name) {
  for (const auto& file : embedded_proposal_templates())
    if (file.name == name) return std::string(file.content);
  throw Error(ErrorCode::internal, "no embedded proposal template " + std::string(name));
}

// --- the view a template sees ----------------------------------------------------------

data to_mustache(const Json& v) {
  if (v.is_object()) {
    data d{data::type::object};
    for (const auto& [key, value] : v.items()) d.set(key, to_mustache(value));
    return d;
  }
  if (v.is_array()) {
    data d{data::type::list};
    for (const auto& item : v) d.push_back(to_mustache(item));
    return d;
  }
  if (v.is_boolean()) return data(v.get<bool>());
  if (v.is_null()) return data(false);
  if (v.is_string()) return data(v.get<std::string>());
  return data(v.dump());
}

// "12ABC34501DE35" → "12.ABC.345/01DE-35"; "12345678909" → "123.456.789-09".
std::string formatted_tax_id(const std::string& tax_id, const std::string& kind) {
  if (kind == "cnpj" && tax_id.size() == 14)
    return tax_id.substr(0, 2) + "." + tax_id.substr(2, 3) + "." + tax_id.substr(5, 3) + "/" + tax_id.substr(8, 4) +
           "-" + tax_id.substr(12, 2);
  if (kind == "cpf" && tax_id.size() == 11)
    return tax_id.substr(0, 3) + "." + tax_id.substr(3, 3) + "." + tax_id.substr(6, 3) + "-" + tax_id.substr(9, 2);
  return tax_id;
}

Json line_view(const Json& line, std::size_t number, const std::string& currency) {
  std::string discount;
  if (line.value("discount", 0) > 0)
    discount = line.value("discount_percent", Json()).is_number()
                   ? format_percent(static_cast<std::int64_t>(line["discount_percent"].get<double>() * 100 + 0.5))
                   : format_money(line["discount"].get<std::int64_t>(), currency);
  const Json& q = line.value("quantity", Json(0));
  auto thousandths = q.is_number_integer() ? q.get<std::int64_t>() * 1000
                                           : static_cast<std::int64_t>(q.get<double>() * 1000 + 0.5);
  return {{"number", std::to_string(number)},
          {"description", text_of(line, "description")},
          {"unit", text_of(line, "unit")},
          {"sku", text_of(line, "sku")},
          {"quantity", format_quantity(thousandths)},
          {"unit_price", format_money(line.value("unit_price", std::int64_t{0}), currency)},
          {"discount", discount},
          {"total", format_money(line.value("total", std::int64_t{0}), currency)}};
}

// Plugins' attributes are flat, namespaced keys ("agro.barter_sacas"): a template reads
// them as {{attributes.agro.barter_sacas}}.
Json nested_attributes(const Json& attributes) {
  Json out = Json::object();
  if (!attributes.is_object()) return out;
  for (const auto& [key, value] : attributes.items()) {
    std::size_t dot = key.find('.');
    if (dot == std::string::npos) out[key] = value;
    else out[key.substr(0, dot)][key.substr(dot + 1)] = value;
  }
  return out;
}

// The view without the intro and closing, which are templates over it themselves.
Json base_view(const Json& document) {
  const Json& p = document.at("proposal");
  std::string currency = text_of(p, "currency");
  Json lines = Json::array();
  for (const auto& line : p.value("lines", Json::array())) lines.push_back(line_view(line, lines.size() + 1, currency));
  const Json& account = document.value("account", Json::object());
  const Json& seller = document.value("seller", Json());
  const Json& tmpl = document.value("template", Json::object());
  std::string logo = text_of(tmpl, "logo_png");
  std::string kind = text_of(account, "tax_id_kind");
  return {{"title", text_of(p, "title")},
          {"revision", std::to_string(p.value("revision", 1))},
          {"currency", currency},
          {"issued_on", format_date(text_of(document, "issued_on"))},
          {"valid_until", format_date(text_of(p, "valid_until"))},
          {"payment_terms", text_of(p, "payment_terms")},
          {"notes", text_of(p, "notes")},
          {"lines", lines},
          {"subtotal", format_money(p.value("subtotal", std::int64_t{0}), currency)},
          {"discount_total", format_money(p.value("discount_total", std::int64_t{0}), currency)},
          {"has_discount", p.value("discount_total", 0) > 0},
          {"total", format_money(p.value("total", std::int64_t{0}), currency)},
          {"tenant_name", text_of(document.value("tenant", Json::object()), "name")},
          {"deal_name", text_of(document.value("deal", Json::object()), "name")},
          {"seller_name", text_of(seller, "name")},
          {"seller_email", text_of(seller, "email")},
          {"account",
           {{"legal_name", text_of(account, "legal_name")},
            {"trade_name", text_of(account, "trade_name")},
            {"tax_id", formatted_tax_id(text_of(account, "tax_id"), kind)},
            {"tax_id_label", kind == "cnpj" ? "CNPJ" : kind == "cpf" ? "CPF" : "Documento"}}},
          {"logo_data_uri", logo.empty() ? "" : "data:image/png;base64," + logo},
          {"attributes", nested_attributes(p.value("attributes", Json::object()))}};
}

std::string render_template(const std::string& text, const Json& view, bool escape_html) {
  mustache tmpl{text};
  if (!tmpl.is_valid()) throw Error(ErrorCode::validation, "the proposal template is not valid: " + tmpl.error_message());
  if (!escape_html) tmpl.set_custom_escape([](const std::string& s) { return s; });
  return tmpl.render(to_mustache(view));
}

// Plain text to HTML paragraphs: a blank line between paragraphs, a line break within.
std::string paragraphs_html(const std::string& escaped_text) {
  std::string html, paragraph;
  std::size_t start = 0;
  auto flush = [&] {
    if (!paragraph.empty()) html += "<p>" + paragraph + "</p>\n";
    paragraph.clear();
  };
  while (start <= escaped_text.size()) {
    std::size_t end = escaped_text.find('\n', start);
    std::string line = escaped_text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      flush();
    else
      paragraph += (paragraph.empty() ? "" : "<br>") + line;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  flush();
  return html;
}

const Json& template_of(const Json& document) {
  static const Json fallback = default_proposal_template();
  auto t = document.find("template");
  return t != document.end() && t->is_object() && t->contains("html") ? *t : fallback;
}

}  // namespace

Json default_proposal_template() {
  return {{"html", embedded("default.html.mustache")},
          {"intro", embedded("default.intro.mustache")},
          {"closing", embedded("default.closing.mustache")}};
}

Json proposal_view(const Json& document) {
  Json view = base_view(document);
  const Json& t = template_of(document);
  view["intro"] = render_template(text_of(t, "intro"), view, false);
  view["closing"] = render_template(text_of(t, "closing"), view, false);
  view["intro_html"] = paragraphs_html(render_template(text_of(t, "intro"), view, true));
  view["closing_html"] = paragraphs_html(render_template(text_of(t, "closing"), view, true));
  return view;
}

std::vector<FieldError> proposal_template_problems(const Json& fields) {
  static const std::set<std::string> top = {
      "title",    "revision",     "currency", "issued_on",      "valid_until",   "payment_terms", "notes",
      "lines",    "subtotal",     "discount_total", "has_discount", "total",   "tenant_name",   "deal_name",
      "seller_name", "seller_email", "account", "logo_data_uri", "attributes", "intro_html", "closing_html",
      "intro",    "closing"};
  static const std::set<std::string> in_lines = {"number", "description", "unit", "sku", "quantity",
                                                 "unit_price", "discount", "total"};
  static const std::set<std::string> in_account = {"legal_name", "trade_name", "tax_id", "tax_id_label"};
  static const std::regex tag(R"(\{\{\s*([#^/{&]?)\s*([^}\s]+)\s*\}?\}\})");
  std::vector<FieldError> problems;
  for (const char* field : {"html", "intro", "closing"}) {
    std::string text = text_of(fields, field);
    if (!fields.contains(field)) continue;
    mustache tmpl{text};
    if (!tmpl.is_valid()) {
      problems.push_back({field, "is not a valid Mustache template: " + tmpl.error_message()});
      continue;
    }
    std::vector<std::string> sections;
    for (std::sregex_iterator it(text.begin(), text.end(), tag), end; it != end; ++it) {
      std::string sigil = (*it)[1], name = (*it)[2];
      if (sigil == "/") {
        if (!sections.empty()) sections.pop_back();
        continue;
      }
      if (name == "." || name.front() == '!' || name.front() == '>' || name.front() == '=') continue;
      std::string head = name.substr(0, name.find('.'));
      bool inside_lines = std::find(sections.begin(), sections.end(), "lines") != sections.end();
      bool known = head == "attributes" || (head == "account" && (name == "account" ||
                                                                  in_account.count(name.substr(8)) > 0)) ||
                   (top.count(head) > 0 && head != "account") || (inside_lines && in_lines.count(name) > 0);
      if ((std::string(field) != "html") && (head == "intro" || head == "closing" || head == "intro_html" ||
                                              head == "closing_html"))
        known = false;  // the intro and closing cannot include themselves
      if (!known) problems.push_back({field, "names an unknown variable {{" + name + "}}"});
      if (sigil == "#" || sigil == "^") sections.push_back(name);
    }
  }
  return problems;
}

std::string render_proposal_html(const Json& document, const std::string& extra_body) {
  Json view = proposal_view(document);
  std::string body = render_template(text_of(template_of(document), "html"), view, true);
  return "<!DOCTYPE html>\n<html lang=\"pt-BR\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         html_escape(view["title"].get<std::string>()) + "</title>\n<style>\n" + embedded("page.css") +
         "</style>\n</head>\n<body>\n<main>\n" + body + "</main>\n" + extra_body + "</body>\n</html>\n";
}

// --- PDF -------------------------------------------------------------------------------

namespace {

constexpr double page_width = 595.28, page_height = 841.89;  // A4 in points
constexpr double margin = 48, header_height = 54, footer_height = 28;
constexpr double content_width = page_width - 2 * margin;
constexpr double content_top = margin + header_height, content_bottom = page_height - margin - footer_height;

struct Column {
  const char* heading;
  double width;
  PangoAlignment align;
};
const Column columns[] = {{"#", 22, PANGO_ALIGN_LEFT},           {"Descrição", 181, PANGO_ALIGN_LEFT},
                          {"Qtd.", 56, PANGO_ALIGN_RIGHT},       {"Preço unit.", 82, PANGO_ALIGN_RIGHT},
                          {"Desconto", 70, PANGO_ALIGN_RIGHT},   {"Total", 88, PANGO_ALIGN_RIGHT}};
constexpr double cell_padding = 4;

std::string markup_escape(const std::string& text) {
  char* escaped = g_markup_escape_text(text.c_str(), static_cast<gssize>(text.size()));
  std::string out(escaped);
  g_free(escaped);
  return out;
}

struct GObjectDeleter {
  void operator()(gpointer p) const { g_object_unref(p); }
};
using LayoutPtr = std::unique_ptr<PangoLayout, GObjectDeleter>;

// The text laid out once per render: both passes below shape each text once.
class Layouts {
 public:
  explicit Layouts(cairo_t* cr) : context_(pango_cairo_create_context(cr)) {
    pango_cairo_context_set_resolution(context_, 72);  // a font's points are the page's points
  }
  ~Layouts() { g_object_unref(context_); }
  Layouts(const Layouts&) = delete;
  Layouts& operator=(const Layouts&) = delete;

  PangoLayout* get(const std::string& markup, double width, PangoAlignment align, const char* font) {
    std::string key = std::string(font) + '\n' + std::to_string(width) + '\n' + std::to_string(align) + '\n' + markup;
    auto found = made_.find(key);
    if (found != made_.end()) return found->second.get();
    LayoutPtr l(pango_layout_new(context_));
    PangoFontDescription* desc = pango_font_description_from_string(font);
    pango_layout_set_font_description(l.get(), desc);
    pango_font_description_free(desc);
    pango_layout_set_width(l.get(), static_cast<int>(width * PANGO_SCALE));
    pango_layout_set_wrap(l.get(), PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(l.get(), align);
    pango_layout_set_markup(l.get(), markup.c_str(), -1);
    return made_.emplace(std::move(key), std::move(l)).first->second.get();
  }

 private:
  PangoContext* context_;
  std::unordered_map<std::string, LayoutPtr> made_;
};

// Lays the document out twice: once to count the pages, once to draw them with "i de n".
class PdfPainter {
 public:
  PdfPainter(cairo_t* cr, Layouts& layouts, const Json& view, const Json& document, int total_pages, bool drawing)
      : cr_(cr), layouts_(layouts), view_(view), document_(document), total_pages_(total_pages), drawing_(drawing) {
    load_logo();
  }
  ~PdfPainter() {
    if (logo_) cairo_surface_destroy(logo_);
  }
  PdfPainter(const PdfPainter&) = delete;
  PdfPainter& operator=(const PdfPainter&) = delete;

  int paint() {
    start_page();
    paragraph("<span size='15pt' weight='bold'>" + markup_escape(view_["title"]) + "</span>", 10);
    facts();
    text_block(view_.value("intro", ""), 8);
    line_table();
    totals();
    if (!view_.value("payment_terms", "").empty()) {
      heading("Condições de pagamento");
      text_block(view_["payment_terms"], 8);
    }
    if (!view_.value("notes", "").empty()) {
      heading("Observações");
      text_block(view_["notes"], 8);
    }
    text_block(view_.value("closing", ""), 0);
    return page_;
  }

 private:
  PangoLayout* layout(const std::string& markup, double width, PangoAlignment align = PANGO_ALIGN_LEFT,
                      const char* font = "DejaVu Sans 9") {
    return layouts_.get(markup, width, align, font);
  }
  static double height_of(PangoLayout* l) {
    int w = 0, h = 0;
    pango_layout_get_size(l, &w, &h);
    return static_cast<double>(h) / PANGO_SCALE;
  }
  void show(PangoLayout* l, double x, double y) {
    if (!drawing_) return;
    cairo_move_to(cr_, x, y);
    pango_cairo_show_layout(cr_, l);
  }

  void load_logo() {
    auto decoded = from_base64(text_of(document_.value("template", Json::object()), "logo_png"));
    if (!decoded || decoded->empty()) return;
    const std::string& png = *decoded;
    struct Reader {
      const std::string* bytes;
      std::size_t at = 0;
    } reader{&png};
    logo_ = cairo_image_surface_create_from_png_stream(
        [](void* closure, unsigned char* out, unsigned int length) {
          auto* r = static_cast<Reader*>(closure);
          if (r->at + length > r->bytes->size()) return CAIRO_STATUS_READ_ERROR;
          std::copy_n(r->bytes->data() + r->at, length, out);
          r->at += length;
          return CAIRO_STATUS_SUCCESS;
        },
        &reader);
    if (cairo_surface_status(logo_) != CAIRO_STATUS_SUCCESS) {  // checked when saved; never fail a render on it
      cairo_surface_destroy(logo_);
      logo_ = nullptr;
    }
  }

  void start_page() {
    if (page_ > 0 && drawing_) cairo_show_page(cr_);
    ++page_;
    y_ = content_top;
    double logo_width = 0;
    if (logo_ && drawing_) {
      double w = cairo_image_surface_get_width(logo_), h = cairo_image_surface_get_height(logo_);
      double scale = std::min(36.0 / h, 160.0 / w);
      cairo_save(cr_);
      cairo_translate(cr_, margin, margin);
      cairo_scale(cr_, scale, scale);
      cairo_set_source_surface(cr_, logo_, 0, 0);
      cairo_paint(cr_);
      cairo_restore(cr_);
      logo_width = w * scale;
    }
    (void)logo_width;
    auto issuer = layout("<b>" + markup_escape(view_["tenant_name"]) + "</b>\nProposta comercial · versão " +
                             markup_escape(view_["revision"]),
                         content_width, PANGO_ALIGN_RIGHT, "DejaVu Sans 8");
    show(issuer, margin, margin);
    if (drawing_) {
      cairo_set_source_rgb(cr_, 0.75, 0.75, 0.75);
      cairo_set_line_width(cr_, 0.5);
      cairo_move_to(cr_, margin, margin + 42);
      cairo_line_to(cr_, page_width - margin, margin + 42);
      cairo_stroke(cr_);
      cairo_set_source_rgb(cr_, 0, 0, 0);
    }
    auto footer = layout("Página " + std::to_string(page_) + " de " + std::to_string(std::max(total_pages_, page_)),
                         content_width, PANGO_ALIGN_CENTER, "DejaVu Sans 7.5");
    show(footer, margin, page_height - margin - 10);
  }

  // Draws a layout line by line, starting a page whenever the next line does not fit.
  void flow(PangoLayout* l, double x) {
    PangoLayoutIter* it = pango_layout_get_iter(l);
    double layout_top = y_;
    double shift = 0;  // how far the lines already moved down by page breaks
    do {
      PangoRectangle logical;
      pango_layout_iter_get_line_extents(it, nullptr, &logical);
      double line_top = layout_top + shift + static_cast<double>(logical.y) / PANGO_SCALE;
      double line_height = static_cast<double>(logical.height) / PANGO_SCALE;
      if (line_top + line_height > content_bottom) {
        start_page();
        shift += y_ - line_top;
        line_top = y_;
      }
      if (drawing_) {
        double baseline = layout_top + shift + static_cast<double>(pango_layout_iter_get_baseline(it)) / PANGO_SCALE;
        cairo_move_to(cr_, x + static_cast<double>(logical.x) / PANGO_SCALE, baseline);
        pango_cairo_show_layout_line(cr_, pango_layout_iter_get_line_readonly(it));
      }
      y_ = line_top + line_height;
    } while (pango_layout_iter_next_line(it));
    pango_layout_iter_free(it);
  }

  void paragraph(const std::string& markup, double space_after) {
    flow(layout(markup, content_width), margin);
    y_ += space_after;
  }
  void text_block(const std::string& text, double space_after) {
    if (text.find_first_not_of(" \n\t\r") == std::string::npos) return;
    paragraph(markup_escape(text), space_after);
  }
  void heading(const std::string& text) {
    PangoLayout* l = layout("<b>" + markup_escape(text) + "</b>", content_width, PANGO_ALIGN_LEFT, "DejaVu Sans 10");
    if (y_ + height_of(l) * 3 > content_bottom) start_page();  // not alone at a page's foot
    y_ += 4;
    flow(l, margin);
    y_ += 3;
  }

  void facts() {
    std::string account = markup_escape(view_["account"]["legal_name"]);
    std::string tax_id = view_["account"]["tax_id"];
    if (!tax_id.empty()) account += " — " + markup_escape(view_["account"]["tax_id_label"]) + " " + markup_escape(tax_id);
    std::string text = "<b>Cliente:</b> " + account + "\n<b>Negócio:</b> " + markup_escape(view_["deal_name"]) +
                       "\n<b>Emitida em:</b> " + markup_escape(view_["issued_on"]);
    if (!view_.value("valid_until", "").empty()) text += "   <b>Válida até:</b> " + markup_escape(view_["valid_until"]);
    if (!view_.value("seller_name", "").empty())
      text += "\n<b>Responsável:</b> " + markup_escape(view_["seller_name"]) +
              (view_.value("seller_email", "").empty() ? "" : " · " + markup_escape(view_["seller_email"]));
    paragraph(text, 10);
  }

  // One table row: its cells laid out, drawn at y_ (a new page first, with the heading
  // again, when it does not fit).
  void row(const std::vector<std::string>& cells, bool heading_row) {
    std::vector<PangoLayout*> layouts;
    double height = 0;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      std::string markup = heading_row ? "<b>" + markup_escape(cells[i]) + "</b>" : markup_escape(cells[i]);
      layouts.push_back(layout(markup, columns[i].width - 2 * cell_padding, columns[i].align,
                               heading_row ? "DejaVu Sans 8" : "DejaVu Sans 8.5"));
      height = std::max(height, height_of(layouts.back()));
    }
    height += 2 * cell_padding;
    if (y_ + height > content_bottom) {
      start_page();
      if (!heading_row) table_heading();
    }
    double x = margin;
    if (drawing_ && heading_row) {
      cairo_set_source_rgb(cr_, 0.92, 0.92, 0.92);
      cairo_rectangle(cr_, margin, y_, content_width, height);
      cairo_fill(cr_);
      cairo_set_source_rgb(cr_, 0, 0, 0);
    }
    for (std::size_t i = 0; i < layouts.size(); ++i) {
      show(layouts[i], x + cell_padding, y_ + cell_padding);
      x += columns[i].width;
    }
    y_ += height;
    if (drawing_) {
      cairo_set_source_rgb(cr_, 0.8, 0.8, 0.8);
      cairo_set_line_width(cr_, 0.4);
      cairo_move_to(cr_, margin, y_);
      cairo_line_to(cr_, page_width - margin, y_);
      cairo_stroke(cr_);
      cairo_set_source_rgb(cr_, 0, 0, 0);
    }
  }
  void table_heading() {
    std::vector<std::string> headings;
    for (const auto& c : columns) headings.emplace_back(c.heading);
    row(headings, true);
  }
  void line_table() {
    y_ += 4;
    table_heading();
    for (const auto& line : view_["lines"]) {
      std::string description = line["description"];
      if (!line.value("unit", "").empty()) description += " (" + line["unit"].get<std::string>() + ")";
      row({line["number"], description, line["quantity"], line["unit_price"], line["discount"], line["total"]}, false);
    }
    y_ += 6;
  }
  void totals() {
    std::string labels = "Subtotal", values = markup_escape(view_["subtotal"]);
    if (view_.value("has_discount", false)) {
      labels += "\nDescontos";
      values += "\n-" + markup_escape(view_["discount_total"]);
    }
    labels += "\n<b>Total</b>";
    values += "\n<b>" + markup_escape(view_["total"]) + "</b>";
    PangoLayout* left = layout(labels, 120, PANGO_ALIGN_RIGHT);
    PangoLayout* right = layout(values, 120, PANGO_ALIGN_RIGHT);
    if (y_ + height_of(left) > content_bottom) start_page();  // the totals stay together
    show(left, page_width - margin - 250, y_);
    show(right, page_width - margin - 120, y_);
    y_ += height_of(left) + 12;
  }

  cairo_t* cr_;
  Layouts& layouts_;
  const Json& view_;
  const Json& document_;
  cairo_surface_t* logo_ = nullptr;
  int total_pages_ = 0;
  bool drawing_ = false;
  int page_ = 0;
  double y_ = 0;
};

cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

std::string render_proposal_pdf(const Json& document) {
  Json view = proposal_view(document);
  std::string pdf;
  cairo_surface_t* surface = cairo_pdf_surface_create_for_stream(append_to_string, &pdf, page_width, page_height);
  std::string issued = text_of(document, "issued_on");
  if (issued.size() == 10) cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, (issued + "T00:00:00Z").c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, view["title"].get<std::string>().c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "Nucleo");
  cairo_t* cr = cairo_create(surface);
  {
    Layouts layouts(cr);
    int pages = PdfPainter(cr, layouts, view, document, 0, false).paint();
    PdfPainter(cr, layouts, view, document, pages, true).paint();
  }
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  cairo_status_t status = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS)
    throw Error(ErrorCode::internal, std::string("rendering the proposal's PDF failed: ") + cairo_status_to_string(status));
  return pdf;
}

}  // namespace nucleo::documents
