// Log lines to stderr (journald keeps them under the unit). Never pass key material.
#pragma once

#include <string>

namespace elastic::sync {

void log_line(const std::string& msg);

}  // namespace elastic::sync
