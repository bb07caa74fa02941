// The sync protocol's frames (docs/sync-protocol.md): on peer links (inside TLS) and on the local
// Unix socket. frame := length:u32be type:u8 body[length - 1].
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "elastic/result.h"

namespace elastic::sync {

enum class FrameType : uint8_t {
  Hello = 1,   // body: node name (peer links: must match the certificate's pinned identity)
  Data = 2,    // body: seq:u64be + elastic.v1.Envelope
  Ack = 3,     // body: seq:u64be, every Data up to seq has been applied
  Status = 4,  // local socket only: request (empty body) and reply (text)
  // local socket only, from elastic-heartbeatd: the live membership view, body text
  // "epoch=N live=sg1,sg2,..." (placement is computed over the live members)
  Membership = 5,
  // peer links only, from the dialling side when it has nothing else to send (keepalive, body
  // empty); the receiver answers with an Ack of the last sequence number it applied
  Ping = 6,
  // A control request for another member's charon (e.g. `elasticctl transfer --to NODE`), routed
  // by syncd from the local socket over the peer links to NODE's plugin. Body: see encode_routed;
  // the payload is a control-socket request ("line\nbody").
  Request = 7,
  // Its answer, routed back to the requesting member's plugin; the payload is a control-socket
  // answer ("OK\n..." or "ERR ...\n"). src is the answering member.
  Response = 8,
};

// A type byte, a length word and at most this many body bytes: one envelope (1 MiB) + seq.
inline constexpr size_t kMaxFrameBody = (1u << 20) + 8;

struct Frame {
  FrameType type;
  std::string body;
};

// Encodes one frame.
std::string encode_frame(FrameType type, std::string_view body);
std::string encode_data(uint64_t seq, std::string_view envelope);
std::string encode_ack(uint64_t seq);

// Splits a Data body into its sequence number and envelope bytes.
Result<std::pair<uint64_t, std::string_view>> split_data(std::string_view body);
Result<uint64_t> parse_ack(std::string_view body);

// A routed frame's body: id:u64be, src and dst node names (u8 length + bytes each, 1..255),
// then the payload. The id is chosen by the requester and echoed in the Response.
struct Routed {
  uint64_t id = 0;
  std::string src, dst;
  std::string_view payload;  // points into the parsed body
};
std::string encode_routed(FrameType type, uint64_t id, std::string_view src, std::string_view dst,
                          std::string_view payload);
Result<Routed> parse_routed(std::string_view body);

// Incremental decoder for a byte stream: feed() what arrived, next() yields complete frames.
// A malformed frame (unknown type, zero or oversized length) is an error that ends the stream.
class FrameDecoder {
 public:
  FrameDecoder() = default;
  FrameDecoder(const FrameDecoder&) = delete;
  FrameDecoder& operator=(const FrameDecoder&) = delete;
  FrameDecoder& operator=(FrameDecoder&& o) noexcept;
  ~FrameDecoder();  // the buffer held envelopes with key material: wiped
  void feed(const char* data, size_t n) { buf_.append(data, n); }
  // A frame, or an Error; `none` set when more bytes are needed.
  Result<Frame> next(bool& none);
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::string buf_;
  size_t pos_ = 0;
};

}  // namespace elastic::sync
