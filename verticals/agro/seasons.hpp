#pragma once

// The agricultural calendar as the agro pack computes it, as pure functions its routes
// and jobs feed (docs/verticals/agro.md): the safra and decêndio of a date, ZARC risk
// tables read line by line, the planting windows they recommend cut by a sowing
// calendar, expected harvests, and the CAR code of a rural property.

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/registry.hpp"
#include "nucleo/sdk/plugin.hpp"

namespace nucleo::agro {

using nucleo::sdk::Json;

// The safra a date falls in, "2025/26": a safra runs from 1 July to 30 June, so a
// soybean sown in October and the corn sown after it in February share one.
std::string safra_of(const std::string& date);
// The first and last day of a safra label ("2024/25" → 2024-07-01, 2025-06-30); throws
// std::invalid_argument for anything else.
struct Span {
  std::string start, end;  // ISO dates, both inclusive
};
Span safra_span(const std::string& safra);
// The decêndio of a date, 1-36: each month's days 1-10, 11-20 and 21 to its end, from
// January (ZARC's dec1 is 1-10 January).
int decendio_of(const std::string& date);
// The days of decêndio `d` (1-36) of `year`.
Span decendio_span(int year, int d);

// ---- ZARC -------------------------------------------------------------------------------

// A ZARC risk table's header (the Ministry's open data: Nome_cultura, SafraIni, SafraFin,
// geocodigo, UF, municipio, Cod_Solo, Cod_Ciclo, Portaria, dec1…dec36), its columns by
// name. ';' or ',' separated; throws sdk::Error (INVALID_ARGUMENT) naming what is missing.
struct ZarcHeader {
  std::vector<std::string> columns;
  char separator = ';';
};
ZarcHeader zarc_header(std::string_view line);
// One line: {"crop", "crop_name", "season": "first"|"second", "safra", "safra_start",
// "safra_end", "span_start", "span_end", "geocode", "uf", "municipality", "soil", "cycle",
// "portaria", "risks": [36 × 0|20|30|40]} and its record id — or why it cannot be read.
struct ZarcEntry {
  std::string id;
  Json document;
};
std::variant<ZarcEntry, std::string> zarc_entry(const verticals::Columns& columns, char separator, std::string_view line);
// A crop's name as the pack keys it: folded, lower case, "_" between words ("Soja" →
// "soja", "Milho 2ª safra" → "milho" with season second).
struct CropKey {
  std::string key, season;
};
CropKey crop_key(std::string_view name);

// The planting windows the ZARC rows of one crop and municipality recommend: runs of
// consecutive decêndios whose risk is at most `max_risk` (20, 30 or 40 %; 0 is "not
// recommended"), each with its lowest and highest risk. Several rows (soils, cycles)
// recommend a decêndio when any of them does, at the lowest risk among them.
struct Window {
  std::string start, end;
  int lowest_risk = 0, highest_risk = 0;
};
std::vector<Window> planting_windows(const std::vector<Json>& zarc_rows, int max_risk);
// The windows cut to a sowing calendar's dates (a Portaria's vazio sanitário).
std::vector<Window> within(const std::vector<Window>& windows, const Span& calendar);
Json to_json(const std::vector<Window>& windows);

// ---- Crops and properties ----------------------------------------------------------------

// The ISO date `cycle_days` after planting.
std::string expected_harvest(const std::string& planting_date, int cycle_days);
// The UF (two letters) of an IBGE municipality code, or "" when its state part is unknown.
std::string uf_of_municipality(const std::string& ibge_code);
// Why a CAR code (SICAR's UF-IBGE-hash, e.g. "MT-5107925-0A1B…", dots allowed) does not
// fit a farm in `municipality_ibge` — another UF or municipality, an unknown state — or ""
// when it fits.
std::string car_problem(const std::string& car, const std::string& municipality_ibge);

// Per safra, newest first, what a producer planted and bought: crop plans' documents
// ({"safra", "crop", "season", "area_ha"}) and won deals ({"safra", "amount",
// "barter_sacas"}) → [{"safra", "area_ha", "crops": {"<crop>": {"area_ha", "plans"}},
// "second_crop_area_ha", "purchases": {"deals", "amount", "barter_sacas"}}]. Areas are
// summed in hundredths of a hectare, then shown in hectares.
Json seasons_of(const std::vector<Json>& plans, const std::vector<Json>& won_deals);

}  // namespace nucleo::agro
