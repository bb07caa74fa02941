#include "elastic/receiver.h"

#include "elastic/secure.h"

namespace elastic::hb {

Receiver::Receiver(std::string self, std::set<std::string> members, std::string_view key)
    : self_(std::move(self)), members_(std::move(members)), key_(key) {}

Receiver::~Receiver() {
  secure_wipe(key_);
}

std::optional<Packet> Receiver::receive(std::string_view datagram, std::string* why) {
  auto d = decode_packet(datagram, key_);
  if (!d.ok) {
    ++(d.error == DecodeError::Forged ? c_.forged : c_.malformed);
    if (why) *why = d.why;
    return std::nullopt;
  }
  Packet& p = d.packet;
  if (p.sender == self_ || !members_.count(p.sender)) {
    ++c_.foreign;
    if (why) *why = "sender '" + p.sender + "' is not another member";
    return std::nullopt;
  }
  auto [it, first] = senders_.try_emplace(p.sender);
  SenderState& s = it->second;
  if (!first) {
    // Same boot: strictly increasing seq. Another boot: only a later start (by its wall clock) is
    // a restart; an older one is a recording.
    const bool fresh = p.boot == s.boot ? p.seq > s.seq : p.wall_us > s.wall_us;
    if (!fresh) {
      ++c_.replayed;
      if (why) *why = "replayed or stale packet from " + p.sender;
      return std::nullopt;
    }
  }
  s = {p.boot, p.seq, p.wall_us};
  ++c_.ok;
  return std::move(p);
}

}  // namespace elastic::hb
