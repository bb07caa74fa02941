// Control requests between the members' plugins (`elasticctl transfer --to NODE`): syncd passes
// Request and Response frames between its local plugin and the peer links, so that a transfer
// needs no shared filesystem and no SSH, only the cluster's authenticated TLS links. One hop:
// a frame from a peer must come from its src member and be for this node.
#include "elastic/log.h"
#include "elastic/secure.h"
#include "elastic/sync_daemon.h"

namespace elastic::sync {

namespace {

// The answer a requester gets when its request cannot be delivered.
std::string refusal(const Routed& r, const std::string& why) {
  return encode_routed(FrameType::Response, r.id, r.dst, r.src, "ERR " + why + "\n");
}

}  // namespace

bool SyncDaemon::to_plugin(const std::string& frame) {
  bool any = false;
  for (auto& w : locals_)
    if (auto s = w.lock(); s && s->open() && s->subscribed()) {
      s->forward(frame);
      any = true;
    }
  return any;
}

Result<void> SyncDaemon::route_from_local(LocalSession& from, FrameType type, std::string_view body) {
  auto r = parse_routed(body);
  if (!r) return r.error();
  if (r->src != cfg_.node) {
    if (type == FrameType::Request)
      from.forward(refusal(*r, "the request names '" + r->src + "' as its sender, but this is " + cfg_.node));
    ++stats_.routed_failed;
    return {};
  }
  std::string frame = encode_frame(type, body);
  if (r->dst == cfg_.node) {  // to ourselves (elasticctl --node with this node's name)
    const bool ok = to_plugin(frame);
    secure_wipe(frame);
    if (!ok && type == FrameType::Request) from.forward(refusal(*r, "no plugin attached here"));
    ++(ok ? stats_.routed : stats_.routed_failed);
    return {};
  }
  auto it = links_.find(r->dst);
  if (it != links_.end() && it->second->send_routed(std::move(frame))) {
    ++stats_.routed;
    return {};
  }
  secure_wipe(frame);
  ++stats_.routed_failed;
  if (type == FrameType::Request)
    from.forward(refusal(*r, it == links_.end() ? "'" + r->dst + "' is not a member of this cluster"
                                                : "no link to member " + r->dst + " (down or unreachable)"));
  return {};
}

Result<void> SyncDaemon::route_from_peer(const std::string& peer, FrameType type, std::string_view body) {
  auto r = parse_routed(body);
  if (!r) return r.error();
  if (r->src != peer || r->dst != cfg_.node) {
    if (++stats_.routed_refused <= 10)  // an authenticated but broken member: bounded log
      log::warning("refused a routed frame from peer " + peer + " (from '" + r->src + "' to '" + r->dst +
                   "'): members send only their own, to their direct peers");
    return {};
  }
  std::string frame = encode_frame(type, body);
  const bool ok = to_plugin(frame);
  secure_wipe(frame);
  if (ok) {
    ++stats_.routed;
    return {};
  }
  ++stats_.routed_failed;
  if (type == FrameType::Request)
    if (auto it = links_.find(peer); it != links_.end())
      it->second->send_routed(
          refusal(*r, "no charon with the elastic plugin is attached to elastic-syncd on " + cfg_.node));
  return {};
}

}  // namespace elastic::sync
