#include "elasticctl_format.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <span>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "elastic/parse_number.h"

namespace elastic::ctl {
namespace {

struct Name {
  uint32_t id;
  const char* name;
};

// strongSwan 5.9's encryption_algorithm_names, integrity_algorithm_names,
// pseudo_random_function_names and key_exchange_method_names (crypters/crypter.c, signers/signer.c,
// prfs/prf.c, key_exchange.c): the IANA IKEv2 numbers below 1024, strongSwan's private use above.
constexpr Name kEncryption[] = {
    {1, "DES_IV64"},           {2, "DES_CBC"},         {3, "3DES_CBC"},         {4, "RC5_CBC"},
    {5, "IDEA_CBC"},           {6, "CAST_CBC"},        {7, "BLOWFISH_CBC"},     {8, "3IDEA"},
    {9, "DES_IV32"},           {11, "NULL"},           {12, "AES_CBC"},         {13, "AES_CTR"},
    {14, "AES_CCM_8"},         {15, "AES_CCM_12"},     {16, "AES_CCM_16"},      {18, "AES_GCM_8"},
    {19, "AES_GCM_12"},        {20, "AES_GCM_16"},     {21, "NULL_AES_GMAC"},   {23, "CAMELLIA_CBC"},
    {24, "CAMELLIA_CTR"},      {25, "CAMELLIA_CCM_8"}, {26, "CAMELLIA_CCM_12"}, {27, "CAMELLIA_CCM_16"},
    {28, "CHACHA20_POLY1305"}, {1025, "DES_ECB"},      {1026, "SERPENT_CBC"},   {1027, "TWOFISH_CBC"},
    {1028, "RC2_CBC"},         {1029, "AES_ECB"},      {1030, "AES_CFB"},
};

constexpr Name kIntegrity[] = {
    {1, "HMAC_MD5_96"},
    {2, "HMAC_SHA1_96"},
    {3, "DES_MAC"},
    {4, "KPDK_MD5"},
    {5, "AES_XCBC_96"},
    {6, "HMAC_MD5_128"},
    {7, "HMAC_SHA1_160"},
    {8, "AES_CMAC_96"},
    {9, "AES_128_GMAC"},
    {10, "AES_192_GMAC"},
    {11, "AES_256_GMAC"},
    {12, "HMAC_SHA2_256_128"},
    {13, "HMAC_SHA2_384_192"},
    {14, "HMAC_SHA2_512_256"},
    {1025, "HMAC_SHA1_128"},
    {1026, "HMAC_SHA2_256_96"},
    {1027, "HMAC_SHA2_256_256"},
    {1028, "HMAC_SHA2_384_384"},
    {1029, "HMAC_SHA2_512_512"},
    {1030, "CAMELLIA_XCBC_96"},
};

constexpr Name kPrf[] = {
    {1, "PRF_HMAC_MD5"},         {2, "PRF_HMAC_SHA1"},     {3, "PRF_HMAC_TIGER"},    {4, "PRF_AES128_XCBC"},
    {5, "PRF_HMAC_SHA2_256"},    {6, "PRF_HMAC_SHA2_384"}, {7, "PRF_HMAC_SHA2_512"}, {8, "PRF_AES128_CMAC"},
    {1025, "PRF_FIPS_SHA1_160"}, {1026, "PRF_FIPS_DES"},   {1027, "PRF_KEYED_SHA1"}, {1028, "PRF_CAMELLIA128_XCBC"},
};

constexpr Name kDhGroup[] = {
    {1, "MODP_768"},     {2, "MODP_1024"},      {5, "MODP_1536"},      {14, "MODP_2048"},      {15, "MODP_3072"},
    {16, "MODP_4096"},   {17, "MODP_6144"},     {18, "MODP_8192"},     {19, "ECP_256"},        {20, "ECP_384"},
    {21, "ECP_521"},     {22, "MODP_1024_160"}, {23, "MODP_2048_224"}, {24, "MODP_2048_256"},  {25, "ECP_192"},
    {26, "ECP_224"},     {27, "ECP_224_BP"},    {28, "ECP_256_BP"},    {29, "ECP_384_BP"},     {30, "ECP_512_BP"},
    {31, "CURVE_25519"}, {32, "CURVE_448"},     {1024, "MODP_NULL"},   {1030, "NTRU_112"},     {1031, "NTRU_128"},
    {1032, "NTRU_192"},  {1033, "NTRU_256"},    {1040, "NEWHOPE_128"}, {65536, "MODP_CUSTOM"},
};

// strongSwan's ike_condition_t and ike_extension_t bits (libcharon/sa/ike_sa.h).
constexpr Name kConditions[] = {
    {1u << 0, "COND_NAT_ANY"},
    {1u << 1, "COND_NAT_HERE"},
    {1u << 2, "COND_NAT_THERE"},
    {1u << 3, "COND_NAT_FAKE"},
    {1u << 4, "COND_EAP_AUTHENTICATED"},
    {1u << 5, "COND_CERTREQ_SEEN"},
    {1u << 6, "COND_ORIGINAL_INITIATOR"},
    {1u << 7, "COND_STALE"},
    {1u << 8, "COND_INIT_CONTACT_SEEN"},
    {1u << 9, "COND_XAUTH_AUTHENTICATED"},
    {1u << 10, "COND_REAUTHENTICATING"},
    {1u << 11, "COND_REDIRECTED"},
    {1u << 12, "COND_ONLINE_VALIDATION_SUSPENDED"},
    {1u << 13, "COND_PPK"},
    {1u << 14, "COND_AUTHENTICATED"},
};

constexpr Name kExtensions[] = {
    {1u << 0, "EXT_NATT"},
    {1u << 1, "EXT_MOBIKE"},
    {1u << 2, "EXT_HASH_AND_URL"},
    {1u << 3, "EXT_MULTIPLE_AUTH"},
    {1u << 4, "EXT_STRONGSWAN"},
    {1u << 5, "EXT_EAP_ONLY_AUTHENTICATION"},
    {1u << 6, "EXT_MS_WINDOWS"},
    {1u << 7, "EXT_XAUTH"},
    {1u << 8, "EXT_DPD"},
    {1u << 9, "EXT_CISCO_UNITY"},
    {1u << 10, "EXT_NATT_DRAFT_02_03"},
    {1u << 11, "EXT_IKE_FRAGMENTATION"},
    {1u << 12, "EXT_SIGNATURE_AUTH"},
    {1u << 13, "EXT_IKE_REDIRECTION"},
    {1u << 14, "EXT_IKE_MESSAGE_ID_SYNC"},
    {1u << 15, "EXT_PPK"},
    {1u << 16, "EXT_IKE_CHILDLESS"},
};

// DER-encoded attribute type OIDs of DNs, named as strongSwan prints them.
constexpr std::pair<std::string_view, const char*> kDnAttributes[] = {
    {"\x55\x04\x03", "CN"},
    {"\x55\x04\x04", "SN"},
    {"\x55\x04\x05", "serialNumber"},
    {"\x55\x04\x06", "C"},
    {"\x55\x04\x07", "L"},
    {"\x55\x04\x08", "ST"},
    {"\x55\x04\x0a", "O"},
    {"\x55\x04\x0b", "OU"},
    {"\x55\x04\x0c", "T"},
    {"\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01", "E"},
    {"\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x01", "UID"},
    {"\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x19", "DC"},
};

std::string name_of(std::span<const Name> table, uint32_t id, const char* prefix, const std::string& suffix = "") {
  for (const auto& n : table)
    if (n.id == id) return n.name + suffix;
  return prefix + std::to_string(id) + suffix + " (unknown)";
}

// A bit set as the names of its bits; bits without a name as "0x... (unknown)".
Value flag_names(std::span<const Name> table, uint32_t bits) {
  Value out = Value::array();
  for (const auto& n : table)
    if (bits & n.id) {
      out.push(Value::str(n.name));
      bits &= ~n.id;
    }
  if (bits) {
    char b[32];
    std::snprintf(b, sizeof b, "0x%x (unknown)", bits);
    out.push(Value::str(b));
  }
  return out;
}

std::string hex(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out += digits[static_cast<unsigned char>(c) >> 4];
    out += digits[static_cast<unsigned char>(c) & 0xf];
  }
  return out;
}

// IKE SPIs as swanctl shows them (16 hex digits), ESP SPIs and CPIs as ip xfrm does (0x...).
std::string ike_spi(uint64_t spi) {
  char b[24];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(spi));
  return b;
}

std::string hex32(uint32_t v, int digits) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%0*x", digits, v);
  return b;
}

// Seconds since the epoch as ISO 8601 UTC, with microseconds if `micros` is given.
std::string utc(uint64_t secs, std::optional<uint32_t> micros = std::nullopt) {
  const auto t = static_cast<time_t>(secs);
  std::tm tm{};
  char b[64];
  if (secs > static_cast<uint64_t>(INT64_MAX) || !gmtime_r(&t, &tm) ||
      !std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm))
    return "@" + std::to_string(secs);
  std::string out = b;
  if (micros) {
    std::snprintf(b, sizeof b, ".%06u", *micros);
    out += b;
  }
  return out + "Z";
}

void add_time(Value& o, const char* key, uint64_t secs) {
  if (secs) o.add(key, Value::str(utc(secs)));
}

void add_nonzero(Value& o, const char* key, uint64_t n) {
  if (n) o.add(key, Value::num(n));
}

// An object only if it has members (lifetimes that are all "not set").
void add_nonempty(Value& o, const char* key, Value v) {
  if (!v.items.empty()) o.add(key, std::move(v));
}

bool bit(const std::string& s, int i) {
  return (static_cast<unsigned char>(s[i / 8]) >> (7 - i % 8)) & 1;
}

// The prefix length if [from, to] is exactly one prefix, else -1.
int prefix_length(const std::string& from, const std::string& to) {
  const int bits = static_cast<int>(from.size()) * 8;
  int p = 0;
  while (p < bits && bit(from, p) == bit(to, p)) ++p;
  for (int i = p; i < bits; ++i)
    if (bit(from, i) || !bit(to, i)) return -1;
  return p;
}

// IP protocols as strongSwan's traffic selectors show them (getprotobynumber would depend on
// /etc/protocols).
constexpr Name kProtocols[] = {{1, "icmp"}, {6, "tcp"}, {17, "udp"},       {47, "gre"},
                               {50, "esp"}, {51, "ah"}, {58, "ipv6-icmp"}, {132, "sctp"}};

std::string protocol_name(uint32_t p) {
  if (p == 0) return "any";
  for (const auto& n : kProtocols)
    if (n.id == p) return n.name;
  return std::to_string(p);
}

// One DER TLV at the start of `in` (definite length): its tag and contents; `in` moves past it.
bool der_next(std::string_view& in, uint8_t& tag, std::string_view& body) {
  if (in.size() < 2) return false;
  tag = static_cast<uint8_t>(in[0]);
  size_t len = static_cast<uint8_t>(in[1]), header = 2;
  if (len & 0x80) {
    const size_t n = len & 0x7f;
    if (n == 0 || n > 3 || in.size() < 2 + n) return false;
    len = 0;
    for (size_t k = 0; k < n; ++k) len = (len << 8) | static_cast<uint8_t>(in[2 + k]);
    header += n;
  }
  if (in.size() - header < len) return false;
  body = in.substr(header, len);
  in.remove_prefix(header + len);
  return true;
}

// An attribute type: its short name, else the OID in dotted form.
std::string oid_text(std::string_view oid) {
  for (const auto& [der, name] : kDnAttributes)
    if (der == oid) return name;
  std::string out;
  uint64_t arc = 0;
  for (size_t i = 0; i < oid.size(); ++i) {
    if (arc >> 56) return "OID#" + hex(oid);  // an arc too large to be real
    arc = (arc << 7) | (static_cast<uint8_t>(oid[i]) & 0x7f);
    if (static_cast<uint8_t>(oid[i]) & 0x80) continue;
    if (out.empty())
      out = arc < 80 ? std::to_string(arc / 40) + "." + std::to_string(arc % 40) : "2." + std::to_string(arc - 80);
    else
      out += "." + std::to_string(arc);
    arc = 0;
  }
  return out.empty() ? "OID#" + hex(oid) : out;
}

// A DER Name (SEQUENCE of SETs of type/value pairs) as "C=CH, O=Example, CN=alice".
std::optional<std::string> dn_text(std::string_view der) {
  uint8_t tag = 0;
  std::string_view rdns;
  if (!der_next(der, tag, rdns) || tag != 0x30 || !der.empty()) return std::nullopt;
  std::string out;
  while (!rdns.empty()) {
    std::string_view set;
    if (!der_next(rdns, tag, set) || tag != 0x31) return std::nullopt;
    while (!set.empty()) {
      std::string_view atv, oid, value;
      uint8_t value_tag = 0;
      if (!der_next(set, tag, atv) || tag != 0x30) return std::nullopt;
      if (!der_next(atv, tag, oid) || tag != 0x06 || !der_next(atv, value_tag, value)) return std::nullopt;
      out += (out.empty() ? "" : ", ") + oid_text(oid) + "=" + std::string(value);
    }
  }
  return out;
}

std::string role_name(v1::IkeRole r) {
  switch (r) {
    case v1::IKE_ROLE_INITIATOR:
      return "initiator";
    case v1::IKE_ROLE_RESPONDER:
      return "responder";
    default:
      return "IKE_ROLE_" + std::to_string(r) + " (unknown)";
  }
}

std::string kind_name(v1::EnvelopeKind k) {
  switch (k) {
    case v1::ENVELOPE_KIND_UPSERT:
      return "upsert";
    case v1::ENVELOPE_KIND_COUNTERS:
      return "counters";
    case v1::ENVELOPE_KIND_DELETE:
      return "delete";
    case v1::ENVELOPE_KIND_FORGET:
      return "forget";
    default:
      return "ENVELOPE_KIND_" + std::to_string(k) + " (unknown)";
  }
}

std::string protocol_text(v1::ChildProtocol p) {
  return p == v1::CHILD_PROTOCOL_ESP ? "ESP" : p == v1::CHILD_PROTOCOL_AH ? "AH" : protocol_name(p) + " (unknown)";
}

std::string mode_name(v1::ChildMode m) {
  switch (m) {
    case v1::CHILD_MODE_TUNNEL:
      return "tunnel";
    case v1::CHILD_MODE_TRANSPORT:
      return "transport";
    case v1::CHILD_MODE_BEET:
      return "beet";
    default:
      return "CHILD_MODE_" + std::to_string(m) + " (unknown)";
  }
}

Value addresses(const google::protobuf::RepeatedPtrField<std::string>& list) {
  Value out = Value::array();
  for (const auto& a : list) out.push(Value::str(address_text(a)));
  return out;
}

Value selectors(const google::protobuf::RepeatedPtrField<v1::TrafficSelector>& list) {
  Value out = Value::array();
  for (const auto& ts : list) out.push(Value::str(ts_text(ts)));
  return out;
}

Value ike_algorithms(const v1::IkeAlgorithms& a) {
  Value o;
  o.add("encryption", Value::str(encryption_name(a.encryption(), a.encryption_key_bits())));
  if (a.integrity()) o.add("integrity", Value::str(integrity_name(a.integrity())));
  o.add("prf", Value::str(prf_name(a.prf())));
  o.add("dh_group", Value::str(dh_group_name(a.dh_group())));
  return o;
}

Value child_algorithms(const v1::ChildAlgorithms& a) {
  Value o;
  if (a.encryption()) o.add("encryption", Value::str(encryption_name(a.encryption(), a.encryption_key_bits())));
  if (a.integrity()) o.add("integrity", Value::str(integrity_name(a.integrity())));
  if (a.dh_group()) o.add("dh_group", Value::str(dh_group_name(a.dh_group())));
  return o.add("esn", Value::boolean(a.esn()));
}

Value message_ids(const v1::MessageIds& m) {
  return Value::object().add("initiate", Value::num(m.initiate())).add("respond", Value::num(m.respond()));
}

// Sequence numbers as 64-bit values (the high half is 0 without ESN).
Value replay_in(const v1::ReplayState& r) {
  return Value::object()
      .add("seq", Value::num((uint64_t{r.seq_hi()} << 32) | r.seq()))
      .add("window", Value::num(r.window()));
}

Value replay_out(const v1::ReplayState& r) {
  return Value::object().add("oseq", Value::num((uint64_t{r.oseq_hi()} << 32) | r.oseq()));
}

Value ike_lifetimes(const v1::IkeLifetimes& l) {
  Value o;
  add_time(o, "established", l.established());
  add_time(o, "rekey_at", l.rekey_at());
  add_time(o, "reauth_at", l.reauth_at());
  add_time(o, "expire_at", l.expire_at());
  return o;
}

Value child_lifetimes(const v1::ChildLifetimes& l) {
  Value o;
  add_time(o, "installed", l.installed());
  add_time(o, "rekey_at", l.rekey_at());
  add_time(o, "expire_at", l.expire_at());
  add_nonzero(o, "bytes_soft", l.bytes_soft());
  add_nonzero(o, "bytes_hard", l.bytes_hard());
  add_nonzero(o, "packets_soft", l.packets_soft());
  add_nonzero(o, "packets_hard", l.packets_hard());
  return o;
}

Value usage(const v1::ChildUsage& u) {
  return Value::object()
      .add("bytes_in", Value::num(u.bytes_in()))
      .add("bytes_out", Value::num(u.bytes_out()))
      .add("packets_in", Value::num(u.packets_in()))
      .add("packets_out", Value::num(u.packets_out()));
}

void add_mark(Value& o, const char* key, const v1::Mark& m) {
  if (m.value() || m.mask()) o.add(key, Value::str(hex32(m.value(), 1) + "/" + hex32(m.mask(), 1)));
}

// The CHILD_SA's addressing, algorithms and kernel identifiers.
void child_setup(Value& o, const v1::ChildSa& c) {
  o.add("protocol", Value::str(protocol_text(c.protocol())));
  o.add("mode", Value::str(mode_name(c.mode())));
  o.add("udp_encap", Value::boolean(c.udp_encap()));
  o.add("initiator", Value::boolean(c.initiator()));
  o.add("spi_in", Value::str(hex32(c.spi_in(), 8)));
  o.add("spi_out", Value::str(hex32(c.spi_out(), 8)));
  if (c.cpi_in() || c.cpi_out()) {
    o.add("cpi_in", Value::str(hex32(c.cpi_in(), 4)));
    o.add("cpi_out", Value::str(hex32(c.cpi_out(), 4)));
  }
  o.add("algorithms", child_algorithms(c.algorithms()));
  o.add("local_ts", selectors(c.local_ts()));
  o.add("remote_ts", selectors(c.remote_ts()));
  add_nonzero(o, "reqid", c.reqid());
  add_mark(o, "mark_in", c.mark_in());
  add_mark(o, "mark_out", c.mark_out());
  add_nonzero(o, "if_id_in", c.if_id_in());
  add_nonzero(o, "if_id_out", c.if_id_out());
}

Value child_value(const v1::ChildSa& c) {
  Value o;
  o.add("child_cfg", Value::str(c.child_cfg()));
  add_nonzero(o, "unique_id", c.unique_id());
  child_setup(o, c);
  add_nonempty(o, "lifetimes", child_lifetimes(c.lifetimes()));
  if (c.has_replay_in()) o.add("replay_in", replay_in(c.replay_in()));
  if (c.has_replay_out()) o.add("replay_out", replay_out(c.replay_out()));
  if (c.has_usage()) o.add("usage", usage(c.usage()));
  return o;
}

// Who talks to whom: endpoints, identities, NAT, virtual IPs, MOBIKE addresses.
void ike_peers(Value& o, const v1::IkeSa& ike) {
  o.add("local", Value::str(endpoint_text(ike.local())));
  o.add("remote", Value::str(endpoint_text(ike.remote())));
  o.add("local_id", Value::str(identity_text(ike.local_id())));
  o.add("remote_id", Value::str(identity_text(ike.remote_id())));
  if (ike.has_remote_eap_id()) o.add("remote_eap_id", Value::str(identity_text(ike.remote_eap_id())));
  if (ike.has_nat())
    o.add("nat", Value::object()
                     .add("local_behind_nat", Value::boolean(ike.nat().local_behind_nat()))
                     .add("remote_behind_nat", Value::boolean(ike.nat().remote_behind_nat()))
                     .add("faked", Value::boolean(ike.nat().faked())));
  if (ike.local_virtual_ips_size()) o.add("local_virtual_ips", addresses(ike.local_virtual_ips()));
  if (ike.remote_virtual_ips_size()) o.add("remote_virtual_ips", addresses(ike.remote_virtual_ips()));
  if (ike.peer_addresses_size()) {
    Value peers = Value::array();
    for (const auto& e : ike.peer_addresses()) peers.push(Value::str(endpoint_text(e)));
    o.add("peer_addresses", peers);
  }
}

Value ike_value(const v1::IkeSa& ike) {
  Value o;
  o.add("peer_cfg", Value::str(ike.peer_cfg()));
  add_nonzero(o, "unique_id", ike.unique_id());
  o.add("ike_version", Value::num(ike.ike_version()));
  o.add("role", Value::str(role_name(ike.role())));
  o.add("spi_i", Value::str(ike_spi(ike.spi_i())));
  o.add("spi_r", Value::str(ike_spi(ike.spi_r())));
  ike_peers(o, ike);
  o.add("algorithms", ike_algorithms(ike.algorithms()));
  o.add("message_ids", message_ids(ike.message_ids()));
  if (ike.conditions()) o.add("conditions", flag_names(kConditions, ike.conditions()));
  if (ike.extensions()) o.add("extensions", flag_names(kExtensions, ike.extensions()));
  add_nonzero(o, "dpd_interval", ike.dpd_interval());
  add_nonempty(o, "lifetimes", ike_lifetimes(ike.lifetimes()));
  Value children = Value::array();
  for (const auto& c : ike.child_sas()) children.push(child_value(c));
  return o.add("child_sas", children);
}

Value counters_value(const v1::Counters& counters) {
  Value children = Value::array();
  for (const auto& c : counters.child_sas()) {
    Value o;
    o.add("spi_in", Value::str(hex32(c.spi_in(), 8)));
    o.add("spi_out", Value::str(hex32(c.spi_out(), 8)));
    if (c.has_replay_in()) o.add("replay_in", replay_in(c.replay_in()));
    if (c.has_replay_out()) o.add("replay_out", replay_out(c.replay_out()));
    children.push(o);
  }
  return Value::object().add("message_ids", message_ids(counters.message_ids())).add("child_sas", children);
}

// --- line formats of list and sync-status ---

// Splits at every `sep`, keeping empty fields ("live " has an empty list).
std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  for (char c : s)
    if (c == sep)
      out.emplace_back();
    else
      out.back() += c;
  return out;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, s.find_last_not_of(' ') - b + 1);
}

std::string underscores(std::string s) {
  for (auto& c : s)
    if (c == '-') c = '_';
  return s;
}

// A decimal number as a number, anything else (or a field that is always a string) as a string.
Value field_value(const std::string& key, const std::string& v) {
  if (key == "spi_in" || key == "spi_out") return Value::str("0x" + v);  // as inspect and ip xfrm
  if (key == "spi_i" || key == "spi_r" || key == "vpn" || key == "node" || key == "digest") return Value::str(v);
  auto n = parse_u64(v, key);
  return n ? Value::num(*n) : Value::str(v);
}

// One ", "-separated field of a list line: "ike-id 3" (a pair), "spi_i X spi_r Y" (pairs),
// "message ids initiate 4 respond 9" (a named group), "active" (a lone word: `lone` names it).
void add_list_field(Value& o, std::string field, const char* lone) {
  if (field.empty()) return;
  if (field.rfind("message ids ", 0) == 0) field.replace(0, 11, "message_ids");
  auto w = split(field, ' ');
  if (w.size() == 1) {
    o.add(lone, Value::str(w[0]));
    return;
  }
  const bool grouped = w.size() % 2;  // odd: the first word names a group of pairs
  Value group;
  for (size_t i = grouped; i + 1 < w.size(); i += 2) {
    const std::string key = underscores(w[i]);
    (grouped ? group : o).add(key, field_value(key, w[i + 1]));
  }
  if (grouped) o.add(underscores(w[0]), group);
}

// "NAME: field, field, ..." as an object with "name" first; nullopt without ": ".
std::optional<Value> list_line(const std::string& line, const char* lone) {
  const auto colon = line.find(": ");
  if (colon == std::string::npos) return std::nullopt;
  Value o;
  o.add("name", Value::str(trim(line.substr(0, colon))));
  for (const auto& f : split(line.substr(colon + 2), ',')) add_list_field(o, trim(f), lone);
  return o;
}

// "live a,b" as ["a", "b"], "live a=100,b=50" (and placement's, also when empty) as {"a": 100}.
Value live_list(const std::string& v, bool weighted) {
  Value out = weighted ? Value::object() : Value::array();
  for (const auto& m : split(v, ',')) {
    if (m.empty()) continue;
    const auto eq = m.find('=');
    if (!weighted)
      out.push(Value::str(m));
    else
      out.add(m.substr(0, eq), field_value("weight", eq == std::string::npos ? "" : m.substr(eq + 1)));
  }
  return out;
}

// "peer NAME connected pending 0 unacked 0 resyncs 1".
Value peer_value(const std::vector<std::string>& w) {
  Value o;
  o.add("name", Value::str(w.size() > 1 ? w[1] : ""));
  for (size_t i = 2; i < w.size(); ++i) {
    if (w[i] == "connected" || w[i] == "disconnected") {
      o.add("connected", Value::boolean(w[i] == "connected"));
    } else if (i + 1 < w.size()) {
      o.add(w[i], field_value(w[i], w[i + 1]));
      ++i;
    }
  }
  return o;
}

// "key v" -> key: v; "key v k2 v2" -> key: v, key_k2: v2; "key k1 v1 k2 v2" -> key: {k1: v1, ...}.
void add_status_line(Value& o, const std::vector<std::string>& w) {
  const std::string& key = w[0];
  const size_t n = w.size() - 1;
  if (n == 1) {
    o.add(key, field_value(key, w[1]));
    return;
  }
  const size_t first = n % 2 ? 2 : 1;  // odd: w[1] is the line's own value
  if (n % 2) o.add(key, field_value(key, w[1]));
  Value group;
  for (size_t i = first; i + 1 < w.size(); i += 2) {
    const Value v = w[i] == "live" ? live_list(w[i + 1], key == "placement" || w[i + 1].find('=') != std::string::npos)
                                   : field_value(w[i], w[i + 1]);
    if (n % 2)
      o.add(key + "_" + w[i], v);
    else
      group.add(w[i], v);
  }
  if (n % 2 == 0) o.add(key, group);
}

}  // namespace

std::string encryption_name(uint32_t id, uint32_t key_bits) {
  return name_of(kEncryption, id, "ENCR_", key_bits ? "-" + std::to_string(key_bits) : "");
}

std::string integrity_name(uint32_t id) {
  return name_of(kIntegrity, id, "INTEG_");
}

std::string prf_name(uint32_t id) {
  return name_of(kPrf, id, "PRF_");
}

std::string dh_group_name(uint32_t id) {
  return name_of(kDhGroup, id, "DH_");
}

std::string address_text(const std::string& bytes) {
  char b[INET6_ADDRSTRLEN];
  const int family = bytes.size() == 4 ? AF_INET : bytes.size() == 16 ? AF_INET6 : 0;
  if (!family || !inet_ntop(family, bytes.data(), b, sizeof b))
    return "invalid address (" + std::to_string(bytes.size()) + " bytes)";
  return b;
}

std::string endpoint_text(const v1::Endpoint& e) {
  return address_text(e.address()) + (e.port() ? "[" + std::to_string(e.port()) + "]" : "");
}

std::string ts_text(const v1::TrafficSelector& ts) {
  const auto& from = ts.from_address();
  const auto& to = ts.to_address();
  const int prefix = from.size() == to.size() && (from.size() == 4 || from.size() == 16) ? prefix_length(from, to) : -1;
  std::string out =
      prefix >= 0 ? address_text(from) + "/" + std::to_string(prefix) : address_text(from) + ".." + address_text(to);
  const bool all_ports = ts.from_port() == 0 && ts.to_port() == 65535;
  if (ts.protocol() == 0 && all_ports) return out;
  out += "[" + protocol_name(ts.protocol());
  if (!all_ports)
    out += "/" + std::to_string(ts.from_port()) +
           (ts.from_port() == ts.to_port() ? "" : "-" + std::to_string(ts.to_port()));
  return out + "]";
}

std::string identity_text(const v1::Identity& id) {
  switch (id.type()) {
    case 1:  // ID_IPV4_ADDR
    case 5:  // ID_IPV6_ADDR
      return address_text(id.data());
    case 2:  // ID_FQDN
    case 3:  // ID_RFC822_ADDR
      return id.data();
    case 9:  // ID_DER_ASN1_DN
      if (auto dn = dn_text(id.data())) return *dn;
      return "DN#" + hex(id.data());
    case 11:  // ID_KEY_ID, written "@#hex" in strongSwan's configuration
      return "@#" + hex(id.data());
    default:
      return "ID_TYPE_" + std::to_string(id.type()) + "#" + hex(id.data());
  }
}

Value inspect_value(const v1::Envelope& env) {
  Value o;
  o.add("kind", Value::str(kind_name(env.kind())));
  o.add("schema", Value::num(env.schema()));
  o.add("vpn_id", Value::str(env.vpn_id()));
  o.add("origin_node", Value::str(env.origin_node()));
  o.add("epoch", Value::num(env.epoch()));
  o.add("version", Value::num(env.version()));
  if (env.sent_at_us())
    o.add("sent_at", Value::str(utc(env.sent_at_us() / 1000000, static_cast<uint32_t>(env.sent_at_us() % 1000000))));
  o.add("outbound_stopped", Value::boolean(env.outbound_stopped()));
  if (env.has_context() && env.context().has_ike_sa()) o.add("ike_sa", ike_value(env.context().ike_sa()));
  if (env.has_counters()) o.add("counters", counters_value(env.counters()));
  return o;
}

Value list_value(const std::string& text) {
  Value vpns = Value::array();
  std::optional<Value> vpn;
  Value children = Value::array();
  auto flush = [&] {
    if (vpn) vpns.push(vpn->add("child_sas", children));
    vpn.reset();
    children = Value::array();
  };
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (line[0] != ' ' && line.find(": ike-id ") != std::string::npos) {
      flush();
      vpn = list_line(line, "role");
    } else if (line[0] == ' ' && vpn) {
      if (auto c = list_line(line, "state")) children.push(*c);
    }
  }
  flush();
  return Value::object().add("vpns", vpns);
}

Value sync_status_value(const std::string& text) {
  Value o, peers = Value::array();
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto w = split(line, ' ');
    if (w[0].empty()) continue;
    if (w[0] == "peer")
      peers.push(peer_value(w));
    else if (w.size() > 1)
      add_status_line(o, w);
  }
  return o.add("peers", peers);
}

}  // namespace elastic::ctl
