// libFuzzer target: the strongswan.conf-grammar parser and the two daemons' configuration loaders
// (elastic-syncd, elastic-heartbeatd) must reject any text with an error naming what is wrong,
// never crash, hang or leak. File checks (certificates, sockets) are not run: they touch the disk.
// Includes are turned off (an include statement is lexed, pattern and all, then refused): a glob
// of the fuzzer's choosing would read the machine's files; tests/unit/settings_test.cpp covers them.
#include <cstddef>
#include <cstdint>
#include <string>

#include "elastic/hb_config.h"
#include "elastic/settings.h"
#include "elastic/syncd_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto s = elastic::sync::Settings::parse(text, "fuzz.conf", elastic::sync::Settings::Limits{.includes = false});
  if (!s) return s.error().message.empty() ? __builtin_trap(), 0 : 0;  // an error must say what
  if (auto c = elastic::sync::load_syncd_config(*s); !c && c.error().message.empty()) __builtin_trap();
  if (auto h = elastic::hb::load_heartbeat_config(*s); !h && h.error().message.empty()) __builtin_trap();
  return 0;
}
