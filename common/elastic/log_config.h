// The daemons' log level setting (elastic.syncd.loglevel, elastic.heartbeat.loglevel): syslog's
// names, as journalctl -p takes them; unset (or cleared): info. One reader for both daemons.
#pragma once

#include <string>

#include "elastic/log.h"
#include "elastic/result.h"
#include "elastic/settings.h"

namespace elastic::log {

inline Result<Priority> configured_level(const sync::Settings& s, const std::string& key) {
  const std::string v = s.get(key, "info");
  auto p = parse_priority(v);
  if (!p) return s.error(key, "'" + v + "': expected " + kPriorityNames);
  return *p;
}

}  // namespace elastic::log
