#include "elastic/context_validate.h"

#include <string>
#include <vector>

namespace elastic {
namespace {

// Collects every problem with its field path, so one error names all that is wrong.
class Checker {
 public:
  void require(bool ok, const std::string& path, const char* what = "missing") {
    if (!ok) problems_.push_back(path + ": " + what);
  }
  void address(const std::string& bytes, const std::string& path) {
    if (bytes.empty())
      require(false, path);
    else
      require(bytes.size() == 4 || bytes.size() == 16, path, "not an IPv4/IPv6 address (need 4 or 16 bytes)");
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

void check_child(Checker& c, const v1::ChildSa& child, const std::string& path) {
  c.require(!child.child_cfg().empty(), path + ".child_cfg");
  c.require(child.spi_in() != 0, path + ".spi_in");
  c.require(child.spi_out() != 0, path + ".spi_out");
  c.require(child.protocol() == v1::CHILD_PROTOCOL_ESP || child.protocol() == v1::CHILD_PROTOCOL_AH, path + ".protocol",
            "must be ESP (50) or AH (51)");
  c.require(child.mode() != v1::CHILD_MODE_UNSPECIFIED, path + ".mode");
  c.require(child.has_algorithms(), path + ".algorithms");
  c.require(child.has_keys(), path + ".keys");
  if (child.has_keys() && child.protocol() == v1::CHILD_PROTOCOL_ESP) {
    c.require(!child.keys().encryption_i().empty(), path + ".keys.encryption_i");
    c.require(!child.keys().encryption_r().empty(), path + ".keys.encryption_r");
  }
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
  c.require(ike.role() != v1::IKE_ROLE_UNSPECIFIED, path + ".role");
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
    c.require(!ike.keys().nonce_i().empty(), path + ".keys.nonce_i");
    c.require(!ike.keys().nonce_r().empty(), path + ".keys.nonce_r");
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
  c.require(env.epoch() > 0, "epoch");
  c.require(env.version() > 0, "version");
  c.require(!env.vpn_id().empty(), "vpn_id");
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
        }
      }
      break;
    case v1::ENVELOPE_KIND_DELETE:
      c.require(env.body_case() == v1::Envelope::BODY_NOT_SET, "body", "must be empty (kind is delete)");
      break;
    default:
      c.require(false, "kind", "unknown envelope kind");
  }
  return c.result();
}

}  // namespace elastic
