// A fixed read buffer for a connection that carries key material (envelopes): the bytes of each
// read are wiped once they are handed to the frame decoder (wipe(n)), and the whole buffer when
// the connection's object goes, so that no plaintext outlives the session in freed memory.
#pragma once

#include <cstddef>

#include "elastic/secure.h"

namespace elastic::sync {

template <size_t N>
class ReadBuffer {
 public:
  ReadBuffer() = default;
  ReadBuffer(const ReadBuffer&) = delete;
  ReadBuffer& operator=(const ReadBuffer&) = delete;
  ~ReadBuffer() { secure_wipe(data_, N); }

  char* data() { return data_; }
  static constexpr size_t size() { return N; }
  void wipe(size_t n) { secure_wipe(data_, n < N ? n : N); }

 private:
  char data_[N];
};

}  // namespace elastic::sync
