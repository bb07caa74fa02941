// The membership and lease state machine (docs/heartbeatd.md): pure, no I/O, time injected.
// Times are this node's monotonic clock in microseconds; clocks of different nodes are never
// compared with each other (only durations, assuming bounded clock-rate drift).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "elastic/hb_packet.h"

namespace elastic::hb {

using Micros = int64_t;
inline constexpr Micros kNever = INT64_MIN;
inline constexpr Micros kForever = INT64_MAX;

enum class State { Joining, Ready, Suspect, Down, Fenced };
const char* state_name(State s);

struct MemberSpec {
  std::string name;
  double weight = 1.0;
  bool witness = false;
};

struct MembershipConfig {
  std::string self;
  std::vector<MemberSpec> members;  // everyone, self included
  Micros interval = 20000;
  int misses = 3;
  size_t quorum = 2;               // majority of all members (witnesses vote)
  uint64_t boot = 1;               // this start's random boot id
  Micros startup_grace = 1000000;  // a member never heard since our start is declared down after max(D, this)
};

struct Event {
  enum Kind {
    MemberDown,    // we declared `node` down (no heartbeat for D)
    MemberRejoin,  // a member we had declared down is back (new boot, or heard for 3 intervals)
    MemberReady,   // a joining member sent 3 heartbeats
    MemberSuspect,
    Takeover,    // a quorum (counting us) flags `node` down: activate its replicas
    SelfReady,   // we hold a lease for the first time since start
    Fence,       // our lease expired: stop sending on every VPN at once
    Unfence,     // lease regained, nobody declared us down meanwhile: resume
    DropFenced,  // lease regained, but we were declared down (VPNs taken over): drop them
  };
  Kind kind;
  std::string node;
  uint64_t epoch = 0;
  Micros declared_at = kNever;  // Takeover: when we declared it down
  Micros last_heard = kNever;   // Takeover: its last heartbeat before that (kNever: none since our start)
};
const char* event_name(Event::Kind k);

struct MemberStatus {
  std::string name;
  State state;
  bool witness;
  double weight;
  Micros last_heard;  // kNever: not since our start
  uint64_t boot;
  uint64_t last_seq;
  bool declared_down;
  bool flags_us_down;
  uint32_t downs;
};

class Membership {
 public:
  Membership(MembershipConfig cfg, Micros now);

  // Our next heartbeat (seq + 1, acks, down flags); remembers when it was sent.
  // `prompt`: an immediate answer to one member's regular heartbeat (see kPacketPrompt).
  Packet make_heartbeat(Micros now, uint64_t wall_us, bool prompt = false);
  // An authenticated, fresh heartbeat from another member (see Receiver).
  std::vector<Event> on_heartbeat(const Packet& p, Micros now);
  // Timeouts: suspect, down, rejoin, takeover, lease expiry.
  std::vector<Event> tick(Micros now);
  // The earliest time after `now` at which tick() may change something.
  Micros next_deadline(Micros now) const;

  State self_state() const { return self_state_; }
  Micros lease_until() const { return lease_until_; }
  uint64_t epoch() const { return epoch_; }
  uint64_t seq() const { return seq_; }
  const MembershipConfig& config() const { return cfg_; }
  std::vector<MemberStatus> members() const;
  // Live (not declared down) non-witness members with weights, self included, config order.
  std::vector<MemberSpec> live() const;
  Micros d() const { return cfg_.interval * cfg_.misses; }
  Micros lease_length() const { return d() - cfg_.interval; }

 private:
  struct Peer {
    MemberSpec spec;
    State state = State::Joining;
    Micros last_heard = kNever;
    Micros watch_since;  // when we started waiting for it (start, or rejoin)
    int heard_since_join = 0;
    uint64_t boot = 0;
    uint64_t last_seq = 0;
    uint32_t downs = 0;  // how often we declared its current boot down
    bool declared_down = false;
    Micros declared_at = kNever;
    Micros heard_before_down = kNever;  // last_heard when declared down (heartbeats may follow)
    bool takeover_done = false;
    Micros heard_while_down_since = kNever;
    // What it tells about us (only from entries for our current boot):
    Micros ack_sent_at = kNever;  // our send time of the newest seq it acked
    bool flags_us_down = false;
    uint32_t downs_of_us = 0;
    std::map<std::string, bool> flags;  // its down flags for the others, from its last heartbeat
  };

  void evaluate(Micros now, std::vector<Event>& ev);
  void update_lease(Micros now, std::vector<Event>& ev);
  void bump_epoch() { ++epoch_; }
  Micros sent_at(uint64_t seq) const;
  Micros compute_lease() const;
  void rejoin(Peer& p, Micros now, std::vector<Event>& ev);

  MembershipConfig cfg_;
  std::map<std::string, Peer> peers_;  // the others
  uint64_t seq_ = 0;
  uint64_t epoch_ = 0;
  std::deque<std::pair<uint64_t, Micros>> sent_;  // our recent (seq, send time)
  State self_state_ = State::Joining;
  Micros lease_until_ = kNever;
  Micros last_eval_ = kNever;
  Micros resumed_at_ = kNever;      // end of our own last stall
  Micros short_grace_at_ = kNever;  // our last short stall's grace (at most one per D)
  bool taken_over_ = false;         // declared down while fenced: drop, do not resume
};

}  // namespace elastic::hb
