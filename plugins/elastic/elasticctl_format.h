// elasticctl's readable forms: algorithm names, addresses, traffic selectors and identities of a
// context (inspect), and the plugin's `list` and elastic-syncd's status lines as JSON values.
#pragma once

#include <cstdint>
#include <string>

#include "elastic.pb.h"
#include "elasticctl_value.h"

namespace elastic::ctl {

// A context stores strongSwan's algorithm numbers, which are the IANA IKEv2 transform IDs (RFC
// 7296 3.3.2) plus strongSwan's private-use ones (1024 and up). The names are strongSwan's, as
// swanctl --list-sas prints them ("AES_GCM_16-128" with the key size); a number without a name
// prints as e.g. "ENCR_12345 (unknown)".
std::string encryption_name(uint32_t id, uint32_t key_bits = 0);
std::string integrity_name(uint32_t id);
std::string prf_name(uint32_t id);
std::string dh_group_name(uint32_t id);

// "192.0.2.1", "2001:db8::1"; anything but 4 or 16 bytes as "invalid address (N bytes)".
std::string address_text(const std::string& bytes);
// "192.0.2.1[4500]" as strongSwan writes host and port (no port if 0).
std::string endpoint_text(const v1::Endpoint& e);
// "10.0.0.0/24", "10.0.0.1..10.0.0.9" (not a prefix), "[tcp/80]" etc. for protocol and ports.
std::string ts_text(const v1::TrafficSelector& ts);
// FQDN and RFC822 as text, IP addresses, DNs as "C=CH, O=Example, CN=alice", others in hex.
std::string identity_text(const v1::Identity& id);

// Everything of an envelope but its key material (the key fields are never read).
Value inspect_value(const v1::Envelope& env);

// The plugin's list answer ("NAME: ike-id N, vpn ID, ..." lines with indented CHILD_SA lines) as
// {"vpns": [...]}; lines it does not recognize are skipped.
Value list_value(const std::string& text);

// elastic-syncd's status lines ("node sg1", "peer sg2 connected pending 0 ...") as an object.
Value sync_status_value(const std::string& text);

}  // namespace elastic::ctl
