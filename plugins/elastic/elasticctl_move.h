// elasticctl's moves of live VPNs between members: transfer (one VPN), drain (every VPN off a
// member, to its placement alternates) and rebalance (ownership follows placement again).
#pragma once

#include <string>

#include "elasticctl_call.h"

namespace elastic::ctl {

// Exit status when a VPN is active nowhere: its final context had to be saved to a file.
inline constexpr int kExitSaved = 3;
// Exit status of a drain or rebalance stopped by SIGINT/SIGTERM: run it again to continue.
inline constexpr int kExitInterrupted = 4;

int cmd_transfer(const Args& a, const std::string& sock);
int cmd_drain(const Args& a, const std::string& sock);
int cmd_rebalance(const Args& a, const std::string& sock);

}  // namespace elastic::ctl
