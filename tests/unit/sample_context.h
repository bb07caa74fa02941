// A complete, valid context envelope (one IKE_SA with one AES-GCM ESP CHILD_SA) for unit tests.
#pragma once

#include <string>

#include "elastic.pb.h"

namespace elastic {

inline v1::TrafficSelector ts(std::string from, std::string to) {
  v1::TrafficSelector t;
  t.set_from_address(std::move(from));
  t.set_to_address(std::move(to));
  t.set_to_port(65535);
  return t;
}

// A complete context as the plugin would capture it: one IKE_SA with one ESP CHILD_SA.
inline v1::Envelope sample_envelope() {
  v1::Envelope env;
  env.set_schema(v1::SCHEMA_VERSION_1);
  env.set_origin_node("sg1");
  env.set_epoch(3);
  env.set_version(42);
  env.set_kind(v1::ENVELOPE_KIND_UPSERT);
  env.set_vpn_id("sg1/17");
  auto* ike = env.mutable_context()->mutable_ike_sa();
  ike->set_spi_i(0x1122334455667788ULL);
  ike->set_spi_r(0x99aabbccddeeff00ULL);
  ike->set_role(v1::IKE_ROLE_RESPONDER);
  ike->set_ike_version(2);
  ike->mutable_algorithms()->set_encryption(20);
  ike->mutable_algorithms()->set_encryption_key_bits(256);
  ike->mutable_algorithms()->set_prf(5);
  ike->mutable_algorithms()->set_dh_group(31);
  ike->mutable_keys()->set_shared_secret(std::string(32, '\x5a'));
  ike->mutable_keys()->set_nonce_i(std::string(32, '\x01'));
  ike->mutable_keys()->set_nonce_r(std::string(32, '\x02'));
  ike->mutable_local_id()->set_type(2);
  ike->mutable_local_id()->set_data("sg.example.net");
  ike->mutable_remote_id()->set_type(3);
  ike->mutable_remote_id()->set_data("alice@example.net");
  ike->mutable_local()->set_address(std::string("\xc0\x00\x02\x01", 4));
  ike->mutable_local()->set_port(4500);
  ike->mutable_remote()->set_address(std::string("\xc6\x33\x64\x07", 4));
  ike->mutable_remote()->set_port(39012);
  ike->mutable_nat()->set_remote_behind_nat(true);
  ike->set_peer_cfg("rw");
  ike->mutable_message_ids()->set_initiate(4);
  ike->mutable_message_ids()->set_respond(9);
  ike->add_remote_virtual_ips(std::string("\x0a\x63\x00\x05", 4));
  auto* child = ike->add_child_sas();
  child->set_child_cfg("net");
  child->set_spi_in(0xc1a2b3c4);
  child->set_spi_out(0xd1e2f3a4);
  child->set_protocol(v1::CHILD_PROTOCOL_ESP);
  child->set_mode(v1::CHILD_MODE_TUNNEL);
  child->set_udp_encap(true);
  child->mutable_algorithms()->set_encryption(20);
  child->mutable_algorithms()->set_encryption_key_bits(128);
  child->mutable_algorithms()->set_esn(true);
  child->mutable_keys()->set_encryption_i(std::string(20, '\x11'));
  child->mutable_keys()->set_encryption_r(std::string(20, '\x22'));
  *child->add_local_ts() = ts(std::string("\x0a\x0a\x00\x00", 4), std::string("\x0a\x0a\x00\xff", 4));
  *child->add_remote_ts() = ts(std::string("\x0a\x63\x00\x05", 4), std::string("\x0a\x63\x00\x05", 4));
  child->mutable_replay_out()->set_oseq(1000);
  child->mutable_replay_out()->set_oseq_hi(1);
  child->mutable_replay_in()->set_seq(777);
  child->mutable_replay_in()->set_window(128);
  for (int i = 0; i < 4; ++i) child->mutable_replay_in()->add_bitmap(0xffffffffu >> i);
  return env;
}

}  // namespace elastic
