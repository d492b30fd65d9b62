#pragma once

#include <string>
#include <string_view>

namespace nucleo {

// Text made safe inside HTML, in an element or a quoted attribute (& < > " ').
std::string html_escape(const std::string& text);

}  // namespace nucleo
