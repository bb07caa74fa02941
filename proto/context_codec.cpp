#include "elastic/context_codec.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "elastic/context_validate.h"
#include "elastic/secure.h"

namespace elastic {

Result<v1::Envelope> decode_envelope(std::string_view bytes) {
  if (bytes.empty()) return make_error("empty envelope");
  if (bytes.size() > kMaxEnvelopeBytes)
    return make_error("envelope of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                      std::to_string(kMaxEnvelopeBytes));
  v1::Envelope env;
  if (!env.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return make_error("truncated or not an elastic envelope (protobuf parse failed)");
  if (env.schema() != v1::SCHEMA_VERSION_1)
    return make_error("unsupported schema version " + std::to_string(env.schema()) + " (this build reads 1)");
  if (auto ok = validate(env); !ok) {
    wipe_keys(env);
    return ok.error();
  }
  return env;
}

std::string encode_envelope(const v1::Envelope& envelope) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    envelope.SerializeToCodedStream(&coded);
  }
  return out;
}

void wipe_keys(v1::VpnContext& context) {
  if (!context.has_ike_sa()) return;
  auto* ike = context.mutable_ike_sa();
  if (ike->has_keys()) {
    auto* k = ike->mutable_keys();
    secure_wipe(*k->mutable_shared_secret());
    secure_wipe(*k->mutable_nonce_i());
    secure_wipe(*k->mutable_nonce_r());
    secure_wipe(*k->mutable_old_sk_d());
  }
  for (auto& child : *ike->mutable_child_sas()) {
    if (!child.has_keys()) continue;
    auto* k = child.mutable_keys();
    secure_wipe(*k->mutable_encryption_i());
    secure_wipe(*k->mutable_integrity_i());
    secure_wipe(*k->mutable_encryption_r());
    secure_wipe(*k->mutable_integrity_r());
  }
}

void wipe_keys(v1::Envelope& envelope) {
  if (envelope.has_context()) wipe_keys(*envelope.mutable_context());
}

}  // namespace elastic
