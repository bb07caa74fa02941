#include "elastic/hb_packet.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace elastic::hb {
namespace {

constexpr std::string_view kMagic = "EHB1";

void put_u64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_u32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_name(std::string& out, const std::string& name) {
  const size_t n = std::min(name.size(), kMaxName);
  out.push_back(static_cast<char>(n));
  out.append(name, 0, n);
}

void tag(std::string_view data, std::string_view key, unsigned char* out) {
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
}

// A bounds-checked reader: every read fails once the input is exhausted.
class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}
  bool u8(uint8_t& v) {
    if (d_.size() - pos_ < 1) return false;
    v = static_cast<uint8_t>(d_[pos_++]);
    return true;
  }
  template <typename T>
  bool uint(T& v) {
    if (d_.size() - pos_ < sizeof(T)) return false;
    v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | static_cast<uint8_t>(d_[pos_++]));
    return true;
  }
  bool name(std::string& v) {
    uint8_t n = 0;
    if (!u8(n) || n == 0 || n > kMaxName || d_.size() - pos_ < n) return false;
    v.assign(d_.substr(pos_, n));
    pos_ += n;
    for (char c : v)
      if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
    return true;
  }
  bool done() const { return pos_ == d_.size(); }

 private:
  std::string_view d_;
  size_t pos_ = 0;
};

DecodeResult malformed(const char* why) {
  DecodeResult r;
  r.error = DecodeError::Malformed;
  r.why = why;
  return r;
}

}  // namespace

std::string encode_packet(const Packet& p, std::string_view key) {
  std::string out(kMagic);
  put_name(out, p.sender);
  put_u64(out, p.boot);
  put_u64(out, p.seq);
  put_u64(out, p.wall_us);
  put_u64(out, p.epoch);
  out.push_back(static_cast<char>(p.flags));
  const size_t count = std::min(p.peers.size(), kMaxEntries);
  out.push_back(static_cast<char>(count));
  for (size_t i = 0; i < count; ++i) {
    const auto& e = p.peers[i];
    put_name(out, e.name);
    put_u64(out, e.boot);
    put_u64(out, e.ack);
    put_u32(out, e.downs);
    out.push_back(static_cast<char>(e.flags));
  }
  unsigned char t[kTagSize];
  tag(out, key, t);
  out.append(reinterpret_cast<const char*>(t), kTagSize);
  return out;
}

DecodeResult parse_packet_body(std::string_view body) {
  if (body.size() < kMagic.size() || body.substr(0, kMagic.size()) != kMagic) return malformed("bad magic");
  Reader r(body.substr(kMagic.size()));
  DecodeResult out;
  Packet& p = out.packet;
  uint8_t count = 0;
  if (!r.name(p.sender) || !r.uint(p.boot) || !r.uint(p.seq) || !r.uint(p.wall_us) || !r.uint(p.epoch) ||
      !r.u8(p.flags) || !r.u8(count))
    return malformed("truncated header or bad sender name");
  if (count > kMaxEntries) return malformed("too many entries");
  if (p.boot == 0 || p.seq == 0) return malformed("zero boot id or sequence number");
  for (uint8_t i = 0; i < count; ++i) {
    PeerEntry e;
    if (!r.name(e.name) || !r.uint(e.boot) || !r.uint(e.ack) || !r.uint(e.downs) || !r.u8(e.flags))
      return malformed("truncated entry or bad member name");
    for (const auto& o : p.peers)
      if (o.name == e.name) return malformed("member listed twice");
    p.peers.push_back(std::move(e));
  }
  if (!r.done()) return malformed("trailing bytes");
  out.ok = true;
  return out;
}

DecodeResult decode_packet(std::string_view data, std::string_view key) {
  if (data.size() < kMagic.size() + kTagSize || data.substr(0, kMagic.size()) != kMagic)
    return malformed("not a heartbeat (magic or length)");
  const std::string_view body = data.substr(0, data.size() - kTagSize);
  unsigned char want[kTagSize];
  tag(body, key, want);
  if (CRYPTO_memcmp(want, data.data() + body.size(), kTagSize) != 0) {
    DecodeResult r;
    r.error = DecodeError::Forged;
    r.why = "bad MAC";
    return r;
  }
  return parse_packet_body(body);
}

}  // namespace elastic::hb
