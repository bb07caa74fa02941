// libFuzzer target: the heartbeat packet decoder and the admission checks behind it must refuse
// any input with an error, never crash, hang or leak. Inputs go in twice: as a datagram (mostly
// stopped by the MAC) and with a valid tag appended, so that the parser itself is explored.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "elastic/hb_packet.h"
#include "elastic/receiver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace elastic::hb;
  static const std::string key(32, 'k');
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Receiver rx("sg1", {"sg1", "sg2", "sg3"}, key);
  (void)rx.receive(in);
  auto parsed = parse_packet_body(in);
  if (parsed.ok) {
    // What parses must survive a round trip unchanged.
    const std::string again = encode_packet(parsed.packet, key);
    auto back = decode_packet(again, key);
    if (!back.ok || !(back.packet == parsed.packet)) __builtin_trap();
    (void)rx.receive(again);
    (void)rx.receive(again);  // the second time: a replay
  }
  return 0;
}
