#include "elastic/context_validate.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace elastic {
namespace {

// IKEv2 transform IDs (IANA; strongSwan uses the same values) whose ESP key sizes we know.
bool aead(uint32_t encr) {
  return (encr >= 14 && encr <= 16) || (encr >= 18 && encr <= 21) || encr == 28;
}

// Bytes of one direction's ESP encryption key including the salt (RFC 4106/4309/7634), or
// nullopt for an algorithm not listed here (then only presence is checked).
std::optional<size_t> encryption_key_bytes(uint32_t encr, uint32_t bits) {
  const bool aes_bits = bits == 128 || bits == 192 || bits == 256;
  switch (encr) {
    case 3:
      return 24;  // 3DES
    case 11:
      return 0;  // NULL
    case 12:
    case 23:
      return aes_bits ? std::optional<size_t>(bits / 8) : 0;  // AES/Camellia-CBC
    case 13:
    case 18:
    case 19:
    case 20:
    case 21:  // AES-CTR, AES-GCM, GMAC: 4-byte salt
      return aes_bits ? std::optional<size_t>(bits / 8 + 4) : 0;
    case 14:
    case 15:
    case 16:
      return aes_bits ? std::optional<size_t>(bits / 8 + 3) : 0;  // CCM
    case 28:
      return 36;  // ChaCha20-Poly1305
    default:
      return std::nullopt;
  }
}

std::optional<size_t> integrity_key_bytes(uint32_t integ) {
  switch (integ) {
    case 1:
    case 5:
    case 8:
      return 16;  // HMAC-MD5-96, AES-XCBC-96, AES-CMAC-96
    case 2:
      return 20;  // HMAC-SHA1-96
    case 12:
      return 32;  // HMAC-SHA2-256-128
    case 13:
      return 48;  // HMAC-SHA2-384-192
    case 14:
      return 64;  // HMAC-SHA2-512-256
    default:
      return std::nullopt;
  }
}

bool name_chars(const std::string& s, const char* extra) {
  for (char ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && !std::strchr(extra, ch)) return false;
  return true;
}

// Collects every problem with its field path, so one error names all that is wrong.
class Checker {
 public:
  void require(bool ok, const std::string& path, const std::string& what = "missing") {
    if (!ok) problems_.push_back(path + ": " + what);
  }
  void address(const std::string& bytes, const std::string& path) {
    if (bytes.empty())
      require(false, path);
    else
      require(bytes.size() == 4 || bytes.size() == 16, path, "not an IPv4/IPv6 address (need 4 or 16 bytes)");
  }
  // A key of exactly `want` bytes (when the algorithm is known).
  void key(const std::string& k, std::optional<size_t> want, const std::string& path) {
    if (want && k.size() != *want)
      require(false, path, "is " + std::to_string(k.size()) + " bytes, the algorithm needs " + std::to_string(*want));
  }
  Result<void> result() const {
    if (problems_.empty()) return {};
    std::string msg = "invalid context: ";
    for (size_t i = 0; i < problems_.size(); ++i) msg += (i ? "; " : "") + problems_[i];
    return make_error(msg);
  }

 private:
  std::vector<std::string> problems_;
};

void check_endpoint(Checker& c, bool present, const v1::Endpoint& e, const std::string& path) {
  c.require(present, path);
  if (!present) return;
  c.address(e.address(), path + ".address");
  c.require(e.port() <= 65535, path + ".port", "out of range");
}

void check_identity(Checker& c, bool present, const v1::Identity& id, const std::string& path) {
  c.require(present, path);
  if (!present) return;
  c.require(id.type() != 0, path + ".type");
  c.require(!id.data().empty(), path + ".data");
}

void check_ts(Checker& c, const v1::TrafficSelector& ts, const std::string& path) {
  c.address(ts.from_address(), path + ".from_address");
  c.address(ts.to_address(), path + ".to_address");
  c.require(ts.from_address().size() == ts.to_address().size(), path, "address families differ");
  c.require(ts.from_port() <= ts.to_port() && ts.to_port() <= 65535, path + ".to_port", "invalid port range");
}

// Key sizes against the negotiated algorithms: a key of the wrong size would be installed (or
// rejected by the kernel half-way through an activation).
void check_child_keys(Checker& c, const v1::ChildSa& child, const std::string& path) {
  const auto& alg = child.algorithms();
  const auto& k = child.keys();
  if (child.protocol() == v1::CHILD_PROTOCOL_ESP) {
    c.require(alg.encryption() != 0, path + ".algorithms.encryption");
    const auto want = encryption_key_bytes(alg.encryption(), alg.encryption_key_bits());
    if (want != std::optional<size_t>(0)) {
      c.require(!k.encryption_i().empty(), path + ".keys.encryption_i");
      c.require(!k.encryption_r().empty(), path + ".keys.encryption_r");
    }
    c.key(k.encryption_i(), want, path + ".keys.encryption_i");
    c.key(k.encryption_r(), want, path + ".keys.encryption_r");
    if (aead(alg.encryption())) c.require(alg.integrity() == 0, path + ".algorithms.integrity", "must be 0 with AEAD");
  }
  if (alg.integrity() != 0) {
    c.require(!k.integrity_i().empty(), path + ".keys.integrity_i");
    c.require(!k.integrity_r().empty(), path + ".keys.integrity_r");
    c.key(k.integrity_i(), integrity_key_bytes(alg.integrity()), path + ".keys.integrity_i");
    c.key(k.integrity_r(), integrity_key_bytes(alg.integrity()), path + ".keys.integrity_r");
  }
}

// The replay state must be there (the new owner's counters come from it) and fit the kernel's
// limits: window <= 32768 packets, bitmap no larger than the window needs.
void check_replay(Checker& c, bool present, const v1::ReplayState& r, bool esn, const std::string& path) {
  c.require(present, path);
  if (!present) return;
  c.require(r.window() <= 32768, path + ".window", "larger than the kernel's 32768");
  const int words = std::max<int>(1, static_cast<int>((r.window() + 31) / 32));
  c.require(r.bitmap_size() <= words, path + ".bitmap",
            std::to_string(r.bitmap_size()) + " words for a window of " + std::to_string(r.window()));
  c.require(esn || (r.oseq_hi() == 0 && r.seq_hi() == 0), path, "high sequence bits without ESN");
}

void check_child(Checker& c, const v1::ChildSa& child, const std::string& path) {
  c.require(!child.child_cfg().empty(), path + ".child_cfg");
  c.require(child.spi_in() != 0, path + ".spi_in");
  c.require(child.spi_out() != 0, path + ".spi_out");
  c.require(child.protocol() == v1::CHILD_PROTOCOL_ESP || child.protocol() == v1::CHILD_PROTOCOL_AH, path + ".protocol",
            "must be ESP (50) or AH (51)");
  c.require(child.mode() != v1::CHILD_MODE_UNSPECIFIED, path + ".mode");
  c.require(child.has_algorithms(), path + ".algorithms");
  c.require(child.mode() <= v1::CHILD_MODE_BEET, path + ".mode", "out of range");
  c.require(child.has_keys(), path + ".keys");
  if (child.has_keys()) check_child_keys(c, child, path);
  check_replay(c, child.has_replay_in(), child.replay_in(), child.algorithms().esn(), path + ".replay_in");
  check_replay(c, child.has_replay_out(), child.replay_out(), child.algorithms().esn(), path + ".replay_out");
  c.require(child.local_ts_size() > 0, path + ".local_ts");
  c.require(child.remote_ts_size() > 0, path + ".remote_ts");
  for (int i = 0; i < child.local_ts_size(); ++i)
    check_ts(c, child.local_ts(i), path + ".local_ts[" + std::to_string(i) + "]");
  for (int i = 0; i < child.remote_ts_size(); ++i)
    check_ts(c, child.remote_ts(i), path + ".remote_ts[" + std::to_string(i) + "]");
}

void check_ike(Checker& c, const v1::IkeSa& ike, const std::string& path) {
  c.require(ike.spi_i() != 0, path + ".spi_i");
  c.require(ike.spi_r() != 0, path + ".spi_r");
  c.require(ike.role() == v1::IKE_ROLE_INITIATOR || ike.role() == v1::IKE_ROLE_RESPONDER, path + ".role",
            ike.role() == v1::IKE_ROLE_UNSPECIFIED ? "missing" : "out of range");
  c.require(ike.ike_version() == 2, path + ".ike_version", "must be 2 (IKEv1 is not supported)");
  c.require(ike.has_algorithms(), path + ".algorithms");
  if (ike.has_algorithms()) {
    c.require(ike.algorithms().encryption() != 0, path + ".algorithms.encryption");
    c.require(ike.algorithms().prf() != 0, path + ".algorithms.prf");
    c.require(ike.algorithms().dh_group() != 0, path + ".algorithms.dh_group");
  }
  c.require(ike.has_keys(), path + ".keys");
  if (ike.has_keys()) {
    c.require(!ike.keys().shared_secret().empty(), path + ".keys.shared_secret");
    // RFC 7296 2.10: nonces are 16..256 bytes
    for (const auto& [n, name] :
         {std::pair{&ike.keys().nonce_i(), ".keys.nonce_i"}, {&ike.keys().nonce_r(), ".keys.nonce_r"}})
      c.require(n->size() >= 16 && n->size() <= 256, path + name,
                n->empty() ? "missing" : "must be 16..256 bytes (RFC 7296 2.10)");
    c.require(ike.keys().shared_secret().size() <= 2048, path + ".keys.shared_secret", "longer than 2048 bytes");
    c.require(ike.keys().old_sk_d().empty() || ike.keys().old_prf() != 0, path + ".keys.old_prf",
              "missing although old_sk_d is set");
  }
  check_identity(c, ike.has_local_id(), ike.local_id(), path + ".local_id");
  check_identity(c, ike.has_remote_id(), ike.remote_id(), path + ".remote_id");
  check_endpoint(c, ike.has_local(), ike.local(), path + ".local");
  check_endpoint(c, ike.has_remote(), ike.remote(), path + ".remote");
  c.require(!ike.peer_cfg().empty(), path + ".peer_cfg");
  c.require(ike.has_message_ids(), path + ".message_ids");
  for (int i = 0; i < ike.remote_virtual_ips_size(); ++i)
    c.address(ike.remote_virtual_ips(i), path + ".remote_virtual_ips[" + std::to_string(i) + "]");
  for (int i = 0; i < ike.child_sas_size(); ++i)
    check_child(c, ike.child_sas(i), path + ".child_sas[" + std::to_string(i) + "]");
}

void check_context(Checker& c, const v1::VpnContext& ctx, const std::string& path) {
  c.require(ctx.has_ike_sa(), path + ".ike_sa");
  if (ctx.has_ike_sa()) check_ike(c, ctx.ike_sa(), path + ".ike_sa");
}

}  // namespace

Result<void> validate(const v1::VpnContext& context) {
  Checker c;
  check_context(c, context, "context");
  return c.result();
}

Result<void> validate(const v1::Envelope& env) {
  Checker c;
  c.require(env.schema() == v1::SCHEMA_VERSION_1, "schema", "must be 1");
  c.require(!env.origin_node().empty(), "origin_node");
  c.require(env.origin_node().size() <= 64 && name_chars(env.origin_node(), "._-"), "origin_node",
            "not a node name (letters, digits, '.', '_', '-'; at most 64)");
  c.require(env.epoch() > 0, "epoch");
  c.require(env.version() > 0, "version");
  c.require(!env.vpn_id().empty(), "vpn_id");
  c.require(env.vpn_id().size() <= 160 && name_chars(env.vpn_id(), "._-/:"), "vpn_id",
            "not a VPN id (letters, digits, '.', '_', '-', '/', ':'; at most 160)");
  switch (env.kind()) {
    case v1::ENVELOPE_KIND_UPSERT:
      c.require(env.has_context(), "context", "missing (kind is upsert)");
      if (env.has_context()) check_context(c, env.context(), "context");
      break;
    case v1::ENVELOPE_KIND_COUNTERS:
      c.require(env.has_counters(), "counters", "missing (kind is counters)");
      if (env.has_counters()) {
        c.require(env.counters().has_message_ids(), "counters.message_ids");
        for (int i = 0; i < env.counters().child_sas_size(); ++i) {
          const auto& cc = env.counters().child_sas(i);
          const auto p = "counters.child_sas[" + std::to_string(i) + "]";
          c.require(cc.spi_in() != 0, p + ".spi_in");
          c.require(cc.spi_out() != 0, p + ".spi_out");
          if (cc.has_replay_in()) check_replay(c, true, cc.replay_in(), true, p + ".replay_in");
          if (cc.has_replay_out()) check_replay(c, true, cc.replay_out(), true, p + ".replay_out");
        }
      }
      break;
    case v1::ENVELOPE_KIND_DELETE:
    case v1::ENVELOPE_KIND_FORGET:
      c.require(env.body_case() == v1::Envelope::BODY_NOT_SET, "body", "must be empty (kind is delete/forget)");
      break;
    default:
      c.require(false, "kind", "unknown envelope kind");
  }
  return c.result();
}

}  // namespace elastic
