// ctxgen: makes N distinct VPN contexts from one exported context, for scale benchmarks (a
// takeover of thousands of passive VPNs without thousands of EU charons). Each copy gets its own
// VPN id, IKE and ESP SPIs and EU inner address (remote traffic selector 10.3.x.y/32); keys and
// everything else are the template's, so the copies import and activate like the real one.
//   ctxgen TEMPLATE ORIGIN FIRST COUNT OUTDIR   writes OUTDIR/ctx-FIRST .. (COUNT files, mode 0600)
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "elastic/context_codec.h"

int main(int argc, char** argv) {
  if (argc != 6) return std::fputs("usage: ctxgen TEMPLATE ORIGIN FIRST COUNT OUTDIR\n", stderr), 2;
  std::ifstream in(argv[1], std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  auto tmpl = elastic::decode_envelope(bytes);
  if (!tmpl) return std::fprintf(stderr, "ctxgen: %s: %s\n", argv[1], tmpl.error().message.c_str()), 1;
  const unsigned long first = std::strtoul(argv[3], nullptr, 10), count = std::strtoul(argv[4], nullptr, 10);
  if (first == 0 || count == 0 || first + count > 60000)
    return std::fputs("ctxgen: FIRST >= 1, COUNT >= 1, FIRST + COUNT <= 60000\n", stderr), 2;
  umask(077);
  for (unsigned long i = first; i < first + count; ++i) {
    auto env = *tmpl;
    env.set_origin_node(argv[2]);
    env.set_vpn_id(std::string(argv[2]) + "/gen/" + std::to_string(i));
    env.set_epoch(1);
    env.set_version(1);
    auto* ike = env.mutable_context()->mutable_ike_sa();
    ike->set_spi_i(0x5a00000000000000ULL + i);
    ike->set_spi_r(0xa500000000000000ULL + i);
    const std::string inner{'\x0a', '\x03', static_cast<char>(i >> 8), static_cast<char>(i & 0xff)};
    for (auto& c : *ike->mutable_child_sas()) {
      c.set_spi_in(static_cast<uint32_t>(0xc1000000u + i));
      c.set_spi_out(static_cast<uint32_t>(0xc2000000u + i));
      for (auto& ts : *c.mutable_remote_ts()) ts.set_from_address(inner), ts.set_to_address(inner);
    }
    const std::string path = std::string(argv[5]) + "/ctx-" + std::to_string(i);
    std::ofstream out(path, std::ios::binary);
    out << elastic::encode_envelope(env);
    elastic::wipe_keys(env);
    if (!out) return std::fprintf(stderr, "ctxgen: cannot write %s\n", path.c_str()), 1;
  }
  return 0;
}
