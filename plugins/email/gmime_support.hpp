#pragma once

// What the e-mail channel's GMime code shares: GMime set up once, and GObjects owned.

#include <gmime/gmime.h>

#include <memory>
#include <mutex>

namespace nucleo::email {

// GMime keeps process-wide tables (charsets, parser options): set up once, never torn
// down — the plugin lives as long as the kernel.
inline void use_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

struct Unref {
  void operator()(void* object) const {
    if (object) g_object_unref(object);
  }
};
template <typename T>
using Owned = std::unique_ptr<T, Unref>;

}  // namespace nucleo::email
