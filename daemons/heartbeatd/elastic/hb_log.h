// Log lines to stderr (journald keeps them under the unit). Never pass key material.
#pragma once

#include <cstdio>
#include <string>

namespace elastic::hb {

inline void log_line(const std::string& msg) {
  std::fprintf(stderr, "elastic-heartbeatd: %s\n", msg.c_str());
}

}  // namespace elastic::hb
