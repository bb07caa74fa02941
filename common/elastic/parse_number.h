// The one strict number parser for config files, CLI arguments and control/wire requests:
// plain decimal digits only (no sign, space, prefix, unit or exponent), overflow and range
// checked, an error naming the input. Used instead of strtoul/stoi, which accept "-1" (as
// 2^64-1), " 7", "7abc" and wrap silently.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "elastic/result.h"

namespace elastic {

// WHAT names the input in the error ("--margin", "counters.threshold", ...).
inline Result<uint64_t> parse_u64(std::string_view s, std::string_view what, uint64_t min = 0,
                                  uint64_t max = UINT64_MAX) {
  const std::string quoted = std::string(what) + " '" + std::string(s.substr(0, 40)) + "'";
  if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos)
    return make_error(quoted + " is not a number (decimal digits only)");
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size())
    return make_error(quoted + " is out of range " + std::to_string(min) + ".." + std::to_string(max));
  if (v < min || v > max)
    return make_error(quoted + " is out of range " + std::to_string(min) + ".." + std::to_string(max));
  return v;
}

// a + b, or an error instead of wrapping (counter arithmetic: a wrapped sequence number is a
// reused nonce).
inline Result<uint64_t> checked_add(uint64_t a, uint64_t b, std::string_view what) {
  if (a > UINT64_MAX - b)
    return make_error(std::string(what) + ": " + std::to_string(a) + " + " + std::to_string(b) + " overflows");
  return a + b;
}

}  // namespace elastic
