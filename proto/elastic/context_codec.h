// Encoding and decoding of sync envelopes (proto/elastic.proto, schema v1).
// Decoding validates: a caller never sees a context that is missing a mandatory field.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "elastic.pb.h"
#include "elastic/result.h"

namespace elastic {

// Upper bound of one encoded envelope: a VPN with many CHILD_SAs is a few KiB; anything near this
// is garbage or an attack, refused before protobuf allocates for it.
inline constexpr std::size_t kMaxEnvelopeBytes = 1 << 20;

// Parses and validates an envelope. Errors name the problem ("truncated or not an envelope",
// "unsupported schema version 7", "context.ike_sa.keys.nonce_i: missing").
Result<v1::Envelope> decode_envelope(std::string_view bytes);

// Serializes an envelope (deterministic field order so that digests are comparable).
std::string encode_envelope(const v1::Envelope& envelope);

// Overwrites every key field of a context before it is dropped.
void wipe_keys(v1::VpnContext& context);
void wipe_keys(v1::Envelope& envelope);

}  // namespace elastic
