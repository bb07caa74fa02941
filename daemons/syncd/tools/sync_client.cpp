// elastic-sync-client: a stand-in for the charon plugin on syncd's local socket, for tests and
// benchmarks. It publishes synthetic VPN contexts, listens for replicas, asks for status, and
// computes which VPNs a node should hold (the same placement rule as the daemon).
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "elastic/parse_number.h"
#include "elastic/placement.h"
#include "elastic/replica_table.h"
#include "elastic/settings.h"
#include "elastic/sync_frame.h"
#include "elastic/syncd_config.h"
#include "elastic/tls.h"
#include "elastic/unix_io.h"

using namespace elastic;
using namespace elastic::sync;

namespace {

constexpr const char* kUsage = R"(usage: elastic-sync-client COMMAND [OPTIONS]
  publish --socket S --node N --count C [--version V] [--epoch E] [--counters K] [--delete D]
                     [--rate R] [--no-full 1] [--prefix P]
                                  publish C contexts "N/1".."N/C" at version V (then K counter
                                  updates each, then delete the first D); --no-full: only the
                                  counter updates and deletes; --prefix P: the VPNs are "P/1".."P/C"
                                  (moved here from P). R: per second, 0 = max; with R the
                                  schedule is open loop and each counters envelope is stamped
                                  (sent_at_us) with its scheduled send time, so that any delay on
                                  the way, the producer's socket included, counts as latency
  listen  --socket S --count C [--timeout-ms T] [--min-version V]
                                  subscribe, wait until the replay of what the daemon holds is
                                  through, print "listening", then wait for C replicas (with V:
                                  C counters envelopes of version >= V; only those are timed)
  status  --socket S                              print the daemon's status
  held    --socket S                              print the VPN ids of the replicas the daemon
                                                  holds (its replay to a subscriber: not its own
                                                  VPNs, not deleted ones), sorted, one a line
  membership --socket S --epoch N --live A,B,...  send a live membership view (as
                                                  elastic-heartbeatd does), print the status after it
  expect  --config F --node X --history ORIGIN:COUNT:VERSION:COUNTERS:DELETE[,...]
                                                  digest node X should show after those publish runs
  raw     --socket S HEX                          send raw bytes, print what comes back
  peer    --connect IP:PORT --ca F --cert F --key F [--hello NAME] [--node N --origin O --count C
          [--epoch E]] [--wait-close-ms T]
                                  act as a peer: TLS 1.3 with that certificate, send Hello NAME,
                                  C contexts "N/1".."N/C" whose origin_node is O, wait for the Ack
                                  of the last one ("acked C"); then wait up to T ms for the daemon
                                  to close the connection ("closed by the daemon after X ms" or
                                  "still open after T ms")
)";

std::map<std::string, std::string> opts(int argc, char** argv, std::vector<std::string>& pos) {
  std::map<std::string, std::string> o;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0 && i + 1 < argc)
      o[a] = argv[++i];
    else
      pos.push_back(a);
  }
  return o;
}

uint64_t num(std::map<std::string, std::string>& o, const char* k, uint64_t def) {
  return o.count(k) ? std::strtoull(o[k].c_str(), nullptr, 10) : def;
}

using elastic::write_all;

int connect_unix(const std::string& path) {
  int fd = unix_connect(path);
  if (fd < 0) {
    std::perror(("connect " + path).c_str());
    std::exit(1);
  }
  return fd;
}

// The envelope fields every kind has; the VPN id is "NODE/i".
v1::Envelope header(const std::string& node, uint64_t i, uint64_t epoch, uint64_t version, v1::EnvelopeKind kind) {
  v1::Envelope env;
  env.set_schema(v1::SCHEMA_VERSION_1);
  env.set_origin_node(node);
  env.set_epoch(epoch);
  env.set_version(version);
  env.set_kind(kind);
  env.set_vpn_id(node + "/" + std::to_string(i));
  return env;
}

// A synthetic, valid context: one IKE_SA with one CHILD_SA (dummy keys of realistic size).
v1::Envelope context(const std::string& node, uint64_t i, uint64_t epoch, uint64_t version) {
  v1::Envelope env = header(node, i, epoch, version, v1::ENVELOPE_KIND_UPSERT);
  auto* ike = env.mutable_context()->mutable_ike_sa();
  ike->set_spi_i(0x1000000000000000ULL + i);
  ike->set_spi_r(0x2000000000000000ULL + i);
  ike->set_role(v1::IKE_ROLE_RESPONDER);
  ike->set_ike_version(2);
  ike->mutable_algorithms()->set_encryption(20);
  ike->mutable_algorithms()->set_prf(5);
  ike->mutable_algorithms()->set_dh_group(31);
  ike->mutable_keys()->set_shared_secret(std::string(32, 's'));
  ike->mutable_keys()->set_nonce_i(std::string(32, 'i'));
  ike->mutable_keys()->set_nonce_r(std::string(32, 'r'));
  ike->mutable_local_id()->set_type(2);
  ike->mutable_local_id()->set_data("sg.example.net");
  ike->mutable_remote_id()->set_type(3);
  ike->mutable_remote_id()->set_data("user" + std::to_string(i) + "@example.net");
  ike->mutable_local()->set_address(std::string("\xcb\x00\x71\x01", 4));
  ike->mutable_local()->set_port(4500);
  ike->mutable_remote()->set_address(std::string("\xc6\x33\x00\x00", 4));
  ike->mutable_remote()->set_port(static_cast<uint32_t>(1024 + i % 60000));
  ike->set_peer_cfg("rw");
  ike->mutable_message_ids()->set_respond(2);
  auto* c = ike->add_child_sas();
  c->set_child_cfg("net");
  c->set_spi_in(static_cast<uint32_t>(0xc0000000u + i));
  c->set_spi_out(static_cast<uint32_t>(0xd0000000u + i));
  c->set_protocol(v1::CHILD_PROTOCOL_ESP);
  c->set_mode(v1::CHILD_MODE_TUNNEL);
  c->mutable_algorithms()->set_encryption(20);
  c->mutable_algorithms()->set_encryption_key_bits(128);
  c->mutable_keys()->set_encryption_i(std::string(20, 'e'));
  c->mutable_keys()->set_encryption_r(std::string(20, 'f'));
  c->mutable_replay_in()->set_window(32);
  c->mutable_replay_out()->set_oseq(1);
  for (auto* ts : {c->add_local_ts(), c->add_remote_ts()}) {
    ts->set_from_address(std::string("\x0a\x00\x00\x00", 4));
    ts->set_to_address(std::string("\x0a\xff\xff\xff", 4));
    ts->set_to_port(65535);
  }
  return env;
}

uint64_t wall_us() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

v1::Envelope counters(const std::string& node, uint64_t i, uint64_t epoch, uint64_t version, uint32_t oseq,
                      uint64_t sent_at_us) {
  v1::Envelope env = header(node, i, epoch, version, v1::ENVELOPE_KIND_COUNTERS);
  env.set_sent_at_us(sent_at_us);
  env.mutable_counters()->mutable_message_ids()->set_respond(2);
  auto* cc = env.mutable_counters()->add_child_sas();
  cc->set_spi_in(static_cast<uint32_t>(0xc0000000u + i));
  cc->set_spi_out(static_cast<uint32_t>(0xd0000000u + i));
  cc->mutable_replay_out()->set_oseq(oseq);
  return env;
}

v1::Envelope deletion(const std::string& node, uint64_t i, uint64_t epoch, uint64_t version) {
  v1::Envelope env = header(node, i, epoch, version, v1::ENVELOPE_KIND_DELETE);
  return env;
}

// Every envelope the publish command sends, in order (expect replays the same list). `stamp`
// gives the sent_at_us of the next counters envelope.
template <typename F, typename S>
void for_each_envelope(const std::string& node, std::map<std::string, std::string>& o, F&& f, S&& stamp) {
  const uint64_t count = num(o, "--count", 10), version = num(o, "--version", 1), epoch = num(o, "--epoch", 1);
  const uint64_t ctr = num(o, "--counters", 0), del = num(o, "--delete", 0);
  // --prefix P: the VPNs "P/1".."P/C" (another node's VPNs that moved here), origin still N
  auto named = [&](v1::Envelope env, uint64_t i) {
    if (o.count("--prefix")) env.set_vpn_id(o["--prefix"] + "/" + std::to_string(i));
    return encode_envelope(env);
  };
  if (!o.count("--no-full"))
    for (uint64_t i = 1; i <= count; ++i) f(named(context(node, i, epoch, version), i));
  for (uint64_t k = 1; k <= ctr; ++k)
    for (uint64_t i = 1; i <= count; ++i)
      f(named(counters(node, i, epoch, version + k, static_cast<uint32_t>(k * 1000), stamp()), i));
  for (uint64_t i = 1; i <= del && i <= count; ++i) f(named(deletion(node, i, epoch, version + ctr + 1), i));
}

int cmd_publish(std::map<std::string, std::string>& o) {
  int fd = connect_unix(o["--socket"]);
  const double rate = static_cast<double>(num(o, "--rate", 0));
  uint64_t seq = 0;
  std::string batch;
  const auto t0 = std::chrono::steady_clock::now();
  const uint64_t wall0 = wall_us();
  // With a rate, envelope n (from 1) is due at t0 + n/rate: what is due goes out in one write,
  // then the producer sleeps until the next one is due, whatever the daemon answers (open loop).
  auto offset_us = [&](uint64_t n) { return static_cast<uint64_t>(static_cast<double>(n) * 1e6 / rate); };
  auto stamp = [&] { return rate > 0 ? wall0 + offset_us(seq + 1) : wall_us(); };
  for_each_envelope(
      o["--node"], o,
      [&](const std::string& env) {
        if (rate > 0) {
          const auto due = t0 + std::chrono::microseconds(offset_us(seq + 1));
          if (std::chrono::steady_clock::now() < due) {
            write_all(fd, batch);
            batch.clear();
            std::this_thread::sleep_until(due);
          }
        }
        batch += encode_data(++seq, env);
        if (batch.size() > 256 * 1024) {
          write_all(fd, batch);
          batch.clear();
        }
      },
      stamp);
  write_all(fd, batch);
  // Wait for the daemon's ack of the last one: everything was applied locally.
  FrameDecoder dec;
  char buf[4096];
  for (uint64_t acked = 0; acked < seq;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0)
      return std::fprintf(stderr, "publish: connection closed after ack %llu\n", (unsigned long long)acked), 1;
    dec.feed(buf, static_cast<size_t>(n));
    for (bool none = false;;) {
      auto f = dec.next(none);
      if (none) break;
      if (f && f->type == FrameType::Ack) acked = *parse_ack(f->body);
    }
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("published %llu envelopes in %.3f s\n", (unsigned long long)seq, s);
  close(fd);
  return 0;
}

// Reads frames until `done` returns true for one of them (or the read times out / fails).
template <typename F>
bool read_frames(int fd, FrameDecoder& dec, F&& done) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    dec.feed(buf, static_cast<size_t>(n));
    const auto now = static_cast<int64_t>(wall_us());
    for (bool none = false;;) {
      auto f = dec.next(none);
      if (none) break;
      if (f && done(*f, now)) return true;
    }
  }
}

int cmd_listen(std::map<std::string, std::string>& o) {
  int fd = connect_unix(o["--socket"]);
  // Subscribe; the replay of what the daemon holds comes first, then the Status reply: only
  // replicas after that are counted, so that replays never pass for fresh updates.
  write_all(fd, encode_frame(FrameType::Hello, "listener") + encode_frame(FrameType::Status, ""));
  const uint64_t want = num(o, "--count", 1), min_version = num(o, "--min-version", 0);
  const int timeout = static_cast<int>(num(o, "--timeout-ms", 10000));
  timeval tv{timeout / 1000, (timeout % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  FrameDecoder dec;
  uint64_t replayed = 0, got = 0;
  auto replay_done = [&](const Frame& f, int64_t) {
    if (f.type == FrameType::Status) return true;
    ++replayed;
    return false;
  };
  if (!read_frames(fd, dec, replay_done)) return std::fprintf(stderr, "listen: no status reply after the replay\n"), 1;
  std::printf("listening (replay of %llu replicas skipped)\n", (unsigned long long)replayed);
  std::fflush(stdout);
  std::vector<double> lat_ms;  // publish-to-delivery latency of counter updates (sent_at_us)
  read_frames(fd, dec, [&](const Frame& f, int64_t now) {
    if (f.type != FrameType::Data) return false;
    v1::Envelope env;
    auto d = split_data(f.body);
    const bool parsed = d && env.ParseFromArray(d->second.data(), static_cast<int>(d->second.size()));
    if (min_version && !(parsed && env.kind() == v1::ENVELOPE_KIND_COUNTERS && env.version() >= min_version))
      return false;
    ++got;
    if (parsed && env.sent_at_us())
      lat_ms.push_back(static_cast<double>(now - static_cast<int64_t>(env.sent_at_us())) / 1000.0);
    return got >= want;
  });
  std::printf("received %llu replicas\n", (unsigned long long)got);
  if (!lat_ms.empty()) {
    std::sort(lat_ms.begin(), lat_ms.end());
    auto pct = [&](double p) { return lat_ms[static_cast<size_t>(p * static_cast<double>(lat_ms.size() - 1))]; };
    std::printf("latency_ms p50 %.3f p99 %.3f max %.3f n %zu\n", pct(0.5), pct(0.99), lat_ms.back(), lat_ms.size());
  }
  return got >= want ? 0 : 1;
}

// Subscribes and collects the VPN ids of the replay, which ends with the Status reply.
int cmd_held(std::map<std::string, std::string>& o) {
  int fd = connect_unix(o["--socket"]);
  write_all(fd, encode_frame(FrameType::Hello, "listener") + encode_frame(FrameType::Status, ""));
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  FrameDecoder dec;
  std::set<std::string> ids;
  bool bad = false;
  const bool done = read_frames(fd, dec, [&](const Frame& f, int64_t) {
    if (f.type == FrameType::Status) return true;
    if (f.type != FrameType::Data) return false;
    auto d = split_data(f.body);
    if (!d) return bad = true, false;
    auto env = decode_envelope(d->second);
    if (!env) return bad = true, false;
    ids.insert(env->vpn_id());
    return false;
  });
  close(fd);
  if (!done || bad) return std::fprintf(stderr, "held: %s\n", bad ? "undecodable replica" : "no status reply"), 1;
  for (const auto& id : ids) std::printf("%s\n", id.c_str());
  return 0;
}

// Sends `req` (which ends with a Status request unless raw) and prints the Status reply.
int exchange(std::map<std::string, std::string>& o, const std::string& req, bool raw) {
  int fd = connect_unix(o["--socket"]);
  write_all(fd, req);
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  FrameDecoder dec;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
      std::printf("connection closed\n");
      return raw ? 0 : 1;
    }
    dec.feed(buf, static_cast<size_t>(n));
    bool none = false;
    auto f = dec.next(none);
    if (!none && f && f->type == FrameType::Status) {
      std::fputs(f->body.c_str(), stdout);
      return 0;
    }
  }
}

std::string unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

int cmd_membership(std::map<std::string, std::string>& o) {
  const std::string body = "epoch=" + o["--epoch"] + " live=" + o["--live"];
  return exchange(o, encode_frame(FrameType::Membership, body) + encode_frame(FrameType::Status, ""), false);
}

int cmd_expect(std::map<std::string, std::string>& o) {
  auto settings = Settings::load(o["--config"]);
  if (!settings) return std::fprintf(stderr, "%s\n", settings.error().message.c_str()), 1;
  auto cfg = load_syncd_config(*settings);
  if (!cfg) return std::fprintf(stderr, "%s\n", cfg.error().message.c_str()), 1;
  const std::string node = o["--node"];
  ReplicaTable t;
  // --history ORIGIN:COUNT:VERSION:COUNTERS:DELETE[,...]: everything published, in order
  std::string list = o["--history"];
  for (size_t start = 0; start < list.size();) {
    size_t comma = list.find(',', start);
    std::string h = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? list.size() : comma + 1;
    std::vector<std::string> f;
    for (size_t p = 0; p <= h.size();) {
      size_t c = h.find(':', p);
      f.push_back(h.substr(p, c == std::string::npos ? std::string::npos : c - p));
      p = c == std::string::npos ? h.size() + 1 : c + 1;
    }
    if (f.size() != 5) return std::fprintf(stderr, "bad history '%s'\n", h.c_str()), 2;
    std::map<std::string, std::string> ho{
        {"--count", f[1]}, {"--version", f[2]}, {"--counters", f[3]}, {"--delete", f[4]}};
    const std::string origin = f[0];
    for_each_envelope(
        origin, ho,
        [&](const std::string& env) {
          const std::string id = decode_envelope(env)->vpn_id();
          bool mine = origin == node;
          for (const auto& a : alternates(id, origin, cfg->members, cfg->replicas)) mine |= a == node;
          if (mine) (void)t.apply(env);
        },
        wall_us);
  }
  std::printf("contexts %zu\nentries %zu\ndigest %s\n", t.contexts(), t.size(), t.digest().c_str());
  return 0;
}

// A blocking TLS client for tests (a peer that misbehaves on purpose): reads with a poll()
// deadline so that a silent daemon cannot hang it.
int cmd_peer(std::map<std::string, std::string>& o) {
  namespace asio = boost::asio;
  std::signal(SIGPIPE, SIG_IGN);  // a daemon that closes on us is reported, not a silent death
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  if (auto ok = setup_tls(ctx, o["--ca"], o["--cert"], o["--key"]); !ok)
    return std::fprintf(stderr, "peer: %s\n", ok.error().message.c_str()), 2;
  const std::string target = o["--connect"];
  const auto colon = target.rfind(':');
  TlsStream stream(io, ctx);
  boost::system::error_code ec;
  auto port = parse_u64(colon == std::string::npos ? "" : target.substr(colon + 1), "--connect port", 1, 65535);
  auto addr = asio::ip::make_address(target.substr(0, colon), ec);
  if (ec || !port) return std::fprintf(stderr, "peer: bad --connect '%s' (IP:PORT)\n", target.c_str()), 2;
  asio::ip::tcp::endpoint ep(addr, static_cast<uint16_t>(*port));
  stream.lowest_layer().connect(ep, ec);
  if (!ec) stream.handshake(asio::ssl::stream_base::client, ec);
  if (ec) return std::printf("handshake failed: %s\n", ec.message().c_str()), 1;
  const int fd = stream.lowest_layer().native_handle();
  // Reads one chunk within the deadline: >0 bytes, 0 on close/error, -1 on timeout.
  auto read_until = [&](char* buf, size_t len, std::chrono::steady_clock::time_point deadline) -> long {
    if (SSL_pending(stream.native_handle()) == 0) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0) return -1;
    }
    boost::system::error_code rec;
    const size_t n = stream.read_some(asio::buffer(buf, len), rec);
    return rec ? 0 : static_cast<long>(n);
  };
  std::string out;
  if (o.count("--hello")) out += encode_frame(FrameType::Hello, o["--hello"]);
  const uint64_t count = num(o, "--count", 0), epoch = num(o, "--epoch", 1);
  for (uint64_t i = 1; i <= count; ++i) {
    v1::Envelope env = context(o["--node"], i, epoch, 1);
    env.set_origin_node(o.count("--origin") ? o["--origin"] : o["--node"]);
    out += encode_data(i, encode_envelope(env));
  }
  if (!out.empty()) asio::write(stream, asio::buffer(out), ec);
  if (ec) return std::printf("write failed: %s\n", ec.message().c_str()), 1;
  const auto t0 = std::chrono::steady_clock::now();
  FrameDecoder dec;
  char buf[4096];
  if (count) {
    uint64_t acked = 0;
    const auto deadline = t0 + std::chrono::seconds(10);
    while (acked < count) {
      const long n = read_until(buf, sizeof buf, deadline);
      if (n <= 0)
        return std::printf("%s before the ack of %llu (acked %llu)\n", n ? "timeout" : "closed",
                           (unsigned long long)count, (unsigned long long)acked),
               1;
      dec.feed(buf, static_cast<size_t>(n));
      for (bool none = false;;) {
        auto f = dec.next(none);
        if (none) break;
        if (f && f->type == FrameType::Ack) acked = *parse_ack(f->body);
      }
    }
    std::printf("acked %llu\n", (unsigned long long)acked);
  }
  if (o.count("--wait-close-ms")) {
    const auto t1 = std::chrono::steady_clock::now();
    const auto deadline = t1 + std::chrono::milliseconds(num(o, "--wait-close-ms", 0));
    for (;;) {
      const long n = read_until(buf, sizeof buf, deadline);
      if (n < 0) {
        std::printf("still open after %llu ms\n", (unsigned long long)num(o, "--wait-close-ms", 0));
        break;
      }
      if (n == 0) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t1);
        std::printf("closed by the daemon after %lld ms\n", static_cast<long long>(ms.count()));
        break;
      }
    }
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help")) return std::fputs(kUsage, stdout), argc < 2 ? 2 : 0;
  std::vector<std::string> pos;
  auto o = opts(argc, argv, pos);
  std::string cmd = argv[1];
  if (cmd == "publish") return cmd_publish(o);
  if (cmd == "listen") return cmd_listen(o);
  if (cmd == "status") return exchange(o, encode_frame(FrameType::Status, ""), false);
  if (cmd == "held") return cmd_held(o);
  if (cmd == "raw") return exchange(o, unhex(pos.empty() ? "" : pos[0]), true);
  if (cmd == "membership") return cmd_membership(o);
  if (cmd == "expect") return cmd_expect(o);
  if (cmd == "peer") return cmd_peer(o);
  return std::fputs(kUsage, stderr), 2;
}
