#include "elastic/sync_frame.h"

#include "elastic/secure.h"

namespace elastic::sync {
namespace {

void put_u32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (i * 8)) & 0xff));
}

void put_u64(std::string& s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s.push_back(static_cast<char>((v >> (i * 8)) & 0xff));
}

uint64_t get_be(std::string_view s, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

bool known(uint8_t t) {
  return t >= 1 && t <= 8;
}

}  // namespace

std::string encode_frame(FrameType type, std::string_view body) {
  std::string out;
  out.reserve(5 + body.size());
  put_u32(out, static_cast<uint32_t>(body.size() + 1));
  out.push_back(static_cast<char>(type));
  out.append(body);
  return out;
}

std::string encode_data(uint64_t seq, std::string_view envelope) {
  std::string body;
  body.reserve(8 + envelope.size());
  put_u64(body, seq);
  body.append(envelope);
  return encode_frame(FrameType::Data, body);
}

std::string encode_ack(uint64_t seq) {
  std::string body;
  put_u64(body, seq);
  return encode_frame(FrameType::Ack, body);
}

Result<std::pair<uint64_t, std::string_view>> split_data(std::string_view body) {
  if (body.size() < 8) return make_error("data frame shorter than its sequence number");
  return std::pair<uint64_t, std::string_view>{get_be(body, 8), body.substr(8)};
}

Result<uint64_t> parse_ack(std::string_view body) {
  if (body.size() != 8) return make_error("ack frame of " + std::to_string(body.size()) + " bytes (expected 8)");
  return get_be(body, 8);
}

std::string encode_routed(FrameType type, uint64_t id, std::string_view src, std::string_view dst,
                          std::string_view payload) {
  std::string body;
  body.reserve(10 + src.size() + dst.size() + payload.size());
  put_u64(body, id);
  for (std::string_view name : {src, dst}) {  // node names are at most 255 bytes (checked by callers)
    name = name.substr(0, 255);
    body.push_back(static_cast<char>(name.size()));
    body.append(name);
  }
  body.append(payload);
  std::string frame = encode_frame(type, body);
  secure_wipe(body);  // a payload may be a context with keys
  return frame;
}

Result<Routed> parse_routed(std::string_view body) {
  Routed r;
  if (body.size() < 9) return make_error("routed frame shorter than its header");
  r.id = get_be(body, 8);
  body.remove_prefix(8);
  for (std::string* name : {&r.src, &r.dst}) {
    const size_t n = body.empty() ? 0 : static_cast<uint8_t>(body[0]);
    if (n == 0 || body.size() < 1 + n) return make_error("routed frame with an empty or truncated node name");
    name->assign(body.substr(1, n));
    body.remove_prefix(1 + n);
  }
  r.payload = body;
  return r;
}

FrameDecoder::~FrameDecoder() {
  secure_wipe(buf_);
}

FrameDecoder& FrameDecoder::operator=(FrameDecoder&& o) noexcept {
  secure_wipe(buf_);
  buf_ = std::move(o.buf_);
  pos_ = o.pos_;
  o.pos_ = 0;
  return *this;
}

Result<Frame> FrameDecoder::next(bool& none) {
  none = false;
  std::string_view rest(buf_.data() + pos_, buf_.size() - pos_);
  if (rest.size() < 5) {
    none = true;
    return make_error("incomplete");
  }
  const uint64_t len = get_be(rest, 4);
  const auto type = static_cast<uint8_t>(rest[4]);
  if (len == 0 || len - 1 > kMaxFrameBody)
    return make_error("frame length " + std::to_string(len) + " out of range (1.." + std::to_string(kMaxFrameBody + 1) +
                      ")");
  if (!known(type)) return make_error("unknown frame type " + std::to_string(type));
  if (rest.size() < 4 + len) {
    none = true;
    return make_error("incomplete");
  }
  Frame f{static_cast<FrameType>(type), std::string(rest.substr(5, len - 1))};
  pos_ += 4 + len;
  if (pos_ > (1u << 16) && pos_ * 2 > buf_.size()) {  // compact now and then
    std::string rest(buf_, pos_);
    secure_wipe(buf_);
    buf_ = std::move(rest);
    pos_ = 0;
  }
  return f;
}

}  // namespace elastic::sync
