#include "elastic/membership.h"

#include <algorithm>

namespace elastic::hb {

const char* state_name(State s) {
  switch (s) {
    case State::Joining:
      return "joining";
    case State::Ready:
      return "ready";
    case State::Suspect:
      return "suspect";
    case State::Down:
      return "down";
    case State::Fenced:
      return "fenced";
  }
  return "?";
}

const char* event_name(Event::Kind k) {
  switch (k) {
    case Event::MemberDown:
      return "down";
    case Event::MemberRejoin:
      return "rejoin";
    case Event::MemberReady:
      return "ready";
    case Event::MemberSuspect:
      return "suspect";
    case Event::Takeover:
      return "takeover";
    case Event::SelfReady:
      return "self-ready";
    case Event::Fence:
      return "fence";
    case Event::Unfence:
      return "unfence";
    case Event::DropFenced:
      return "drop-fenced";
  }
  return "?";
}

Membership::Membership(MembershipConfig cfg, Micros now) : cfg_(std::move(cfg)) {
  for (const auto& m : cfg_.members) {
    if (m.name == cfg_.self) continue;
    Peer p;
    p.spec = m;
    p.watch_since = now;
    peers_.emplace(m.name, std::move(p));
  }
}

Packet Membership::make_heartbeat(Micros now, uint64_t wall_us, bool prompt) {
  ++seq_;
  sent_.emplace_back(seq_, now);
  // An ack of a heartbeat older than the lease length cannot extend the lease: forget those.
  while (sent_.size() > 1 && sent_.front().second < now - 2 * d()) sent_.pop_front();
  Packet p;
  p.sender = cfg_.self;
  p.boot = cfg_.boot;
  p.seq = seq_;
  p.wall_us = wall_us;
  p.epoch = epoch_;
  p.flags = prompt ? kPacketPrompt : 0;
  for (const auto& m : cfg_.members) {
    auto it = peers_.find(m.name);
    if (it == peers_.end()) continue;
    const Peer& peer = it->second;
    PeerEntry e;
    e.name = m.name;
    e.boot = peer.boot;
    // Never ack a member we declared down: that is what lets its lease run out.
    e.ack = peer.declared_down ? 0 : peer.last_seq;
    e.downs = peer.downs;
    e.flags = peer.declared_down ? kFlagDown : 0;
    p.peers.push_back(std::move(e));
  }
  return p;
}

Micros Membership::sent_at(uint64_t seq) const {
  auto it = std::lower_bound(sent_.begin(), sent_.end(), seq, [](const auto& e, uint64_t s) { return e.first < s; });
  return it != sent_.end() && it->first == seq ? it->second : kNever;
}

std::vector<Event> Membership::on_heartbeat(const Packet& p, Micros now) {
  std::vector<Event> ev;
  auto it = peers_.find(p.sender);
  if (it == peers_.end()) return ev;
  Peer& m = it->second;
  if (p.boot == m.boot && p.seq <= m.last_seq) return ev;  // not newer (the Receiver drops these too)
  // A lease that ran out before this packet arrived is lost, whatever the packet says: fence
  // first, so that news of a takeover in it counts as "while fenced".
  update_lease(now, ev);
  epoch_ = std::max(epoch_, p.epoch);
  if (m.boot != p.boot) {
    // A (re)start of that member: its sequence numbers and its counters for us start over.
    const bool was_down = m.declared_down;
    m.boot = p.boot;
    m.last_seq = 0;
    m.downs = 0;
    m.heard_since_join = 0;
    m.downs_of_us = 0;
    m.heard_while_down_since = kNever;
    if (m.state != State::Joining) m.state = State::Joining;
    if (was_down) rejoin(m, now, ev);
  }
  const Micros prev_heard = m.last_heard;
  m.last_heard = now;
  m.last_seq = p.seq;
  ++m.heard_since_join;
  if (m.declared_down &&
      (m.heard_while_down_since == kNever || prev_heard == kNever || now - prev_heard > 3 * cfg_.interval / 2))
    m.heard_while_down_since = now;
  m.flags.clear();
  for (const auto& e : p.peers) {
    if (e.name != cfg_.self) {
      m.flags[e.name] = e.down();
      continue;
    }
    if (e.boot != cfg_.boot) continue;  // about an earlier start of ours
    if (self_state_ == State::Fenced && (e.down() || e.downs > m.downs_of_us)) taken_over_ = true;
    m.downs_of_us = std::max(m.downs_of_us, e.downs);
    m.flags_us_down = e.down();
    if (e.down()) {
      m.ack_sent_at = kNever;
    } else if (Micros t = sent_at(e.ack); t != kNever && t > m.ack_sent_at) {
      m.ack_sent_at = t;
    }
  }
  evaluate(now, ev);
  return ev;
}

std::vector<Event> Membership::tick(Micros now) {
  std::vector<Event> ev;
  evaluate(now, ev);
  return ev;
}

void Membership::rejoin(Peer& m, Micros now, std::vector<Event>& ev) {
  m.declared_down = false;
  m.takeover_done = false;
  m.state = State::Joining;
  m.heard_since_join = 0;
  m.heard_while_down_since = kNever;
  m.watch_since = now;
  bump_epoch();
  ev.push_back({Event::MemberRejoin, m.spec.name, epoch_});
}

Micros Membership::compute_lease() const {
  const size_t others = cfg_.quorum - 1;  // we count for ourselves
  if (others == 0) return kForever;
  std::vector<Micros> acks;
  for (const auto& [name, m] : peers_)
    if (m.ack_sent_at != kNever && !m.flags_us_down) acks.push_back(m.ack_sent_at);
  if (acks.size() < others) return kNever;
  std::sort(acks.begin(), acks.end(), std::greater<>());
  return acks[others - 1] + lease_length();
}

void Membership::update_lease(Micros now, std::vector<Event>& ev) {
  lease_until_ = compute_lease();
  const bool leased = lease_until_ != kNever && now < lease_until_;
  if (self_state_ == State::Joining && leased) {
    self_state_ = State::Ready;
    ev.push_back({Event::SelfReady, cfg_.self, epoch_});
  } else if (self_state_ == State::Ready && !leased) {
    self_state_ = State::Fenced;
    taken_over_ = false;
    for (const auto& [name, m] : peers_) taken_over_ |= m.flags_us_down;
    ev.push_back({Event::Fence, cfg_.self, epoch_});
  } else if (self_state_ == State::Fenced && leased) {
    self_state_ = State::Ready;
    ev.push_back({taken_over_ ? Event::DropFenced : Event::Unfence, cfg_.self, epoch_});
    taken_over_ = false;
  }
}

void Membership::evaluate(Micros now, std::vector<Event>& ev) {
  const Micros iv = cfg_.interval;
  // 1. Our lease first: a node that just lost it must not take anything over.
  update_lease(now, ev);

  // 2. The others: suspect, down, back. While we ourselves were not running (a stopped
  // process, an overloaded host or VM), their silence is not evidence. We evaluate at least
  // every interval, so an evaluation late by more than half of one ends a stall: after a stall
  // of D or more they get a fresh D; after a shorter one a fresh interval, time for the
  // heartbeat that is queued for us or that they send on their own resume. One such short grace
  // per D: evaluations that are late again and again (a starved process) must not postpone a
  // dead peer's declaration for ever.
  if (last_eval_ != kNever) {
    const Micros gap = now - last_eval_;
    if (gap >= d()) {
      resumed_at_ = now;
    } else if (gap > 3 * iv / 2 && (short_grace_at_ == kNever || now - short_grace_at_ >= d())) {
      resumed_at_ = std::max(resumed_at_, now - d() + iv);
      short_grace_at_ = now;
    }
  }
  last_eval_ = now;
  for (auto& [name, m] : peers_) {
    if (!m.declared_down) {
      const bool heard = m.last_heard != kNever;
      const Micros since = std::max(heard ? m.last_heard : m.watch_since, resumed_at_);
      const Micros limit = heard ? d() : std::max(d(), cfg_.startup_grace);
      if (now - since >= limit) {
        m.declared_down = true;
        m.declared_at = now;
        m.heard_before_down = m.last_heard;
        ++m.downs;
        m.state = State::Down;
        m.takeover_done = false;
        m.heard_while_down_since = kNever;
        bump_epoch();
        ev.push_back({Event::MemberDown, name, epoch_, now});
      } else if (heard && now - m.last_heard > 3 * iv / 2) {
        if (m.state != State::Suspect) ev.push_back({Event::MemberSuspect, name, epoch_});
        m.state = State::Suspect;
      } else if (heard) {
        const State next = m.heard_since_join >= 3 ? State::Ready : State::Joining;
        if (next == State::Ready && m.state == State::Joining) ev.push_back({Event::MemberReady, name, epoch_});
        m.state = next;
      }
    } else if (m.heard_while_down_since != kNever) {
      // Declared down, but its heartbeats (same boot) keep coming: after 3 intervals it is back.
      if (now - m.last_heard > 3 * iv / 2)
        m.heard_while_down_since = kNever;
      else if (now - m.heard_while_down_since >= 3 * iv)
        rejoin(m, now, ev);
    }
  }

  // 3. Takeover once a quorum (counting us) flags a member down.
  if (self_state_ != State::Ready) return;
  const bool self_witness = [&] {
    for (const auto& s : cfg_.members)
      if (s.name == cfg_.self) return s.witness;
    return false;
  }();
  for (auto& [name, m] : peers_) {
    if (!m.declared_down || m.takeover_done || m.spec.witness) continue;
    size_t votes = 1;
    for (const auto& [oname, o] : peers_) {
      if (oname == name || o.declared_down) continue;
      auto f = o.flags.find(name);
      if (f != o.flags.end() && f->second) ++votes;
    }
    if (votes < cfg_.quorum) continue;
    m.takeover_done = true;
    if (!self_witness) ev.push_back({Event::Takeover, name, epoch_, m.declared_at, m.heard_before_down});
  }
}

Micros Membership::next_deadline(Micros now) const {
  const Micros iv = cfg_.interval;
  Micros best = now + iv;
  auto consider = [&](Micros t) {
    if (t > now && t < best) best = t;
  };
  if (self_state_ == State::Ready && lease_until_ != kForever && lease_until_ != kNever) consider(lease_until_);
  for (const auto& [name, m] : peers_) {
    if (!m.declared_down) {
      const bool heard = m.last_heard != kNever;
      consider(std::max(heard ? m.last_heard : m.watch_since, resumed_at_) +
               (heard ? d() : std::max(d(), cfg_.startup_grace)));
      if (heard) consider(m.last_heard + 3 * iv / 2 + 1);
    } else if (m.heard_while_down_since != kNever) {
      consider(m.heard_while_down_since + 3 * iv);
      consider(m.last_heard + 3 * iv / 2 + 1);
    }
  }
  return best;
}

std::vector<MemberStatus> Membership::members() const {
  std::vector<MemberStatus> out;
  for (const auto& s : cfg_.members) {
    auto it = peers_.find(s.name);
    if (it == peers_.end()) continue;
    const Peer& m = it->second;
    out.push_back({s.name, m.state, s.witness, s.weight, m.last_heard, m.boot, m.last_seq, m.declared_down,
                   m.flags_us_down, m.downs});
  }
  return out;
}

std::vector<MemberSpec> Membership::live() const {
  std::vector<MemberSpec> out;
  for (const auto& s : cfg_.members) {
    if (s.witness) continue;
    auto it = peers_.find(s.name);
    if (it == peers_.end() || !it->second.declared_down) out.push_back(s);
  }
  return out;
}

}  // namespace elastic::hb
