// libFuzzer target: the sync frame decoder, the envelope decoder behind it and the replica table
// must reject any input with an error, never crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "elastic/replica_table.h"
#include "elastic/sync_frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace elastic::sync;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  ReplicaTable table;
  (void)table.apply(in);  // the raw input as an envelope
  FrameDecoder dec;
  // Feed in two pieces so that the incremental path is exercised too.
  dec.feed(in.data(), size / 2);
  bool fed_rest = false;
  for (bool none = false;;) {
    auto f = dec.next(none);
    if (none && !fed_rest) {
      dec.feed(in.data() + size / 2, size - size / 2);
      fed_rest = true;
      continue;
    }
    if (none || !f) break;
    if (f->type == FrameType::Data)
      if (auto d = split_data(f->body)) (void)table.apply(d->second);
    if (f->type == FrameType::Ack) (void)parse_ack(f->body);
  }
  (void)table.digest();
  return 0;
}
