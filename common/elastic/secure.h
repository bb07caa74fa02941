// Wiping key material from memory when it is dropped.
#pragma once

#include <cstddef>
#include <string>

namespace elastic {

// Overwrites n bytes in a way the optimizer may not remove.
inline void secure_wipe(void* p, std::size_t n) {
  volatile unsigned char* b = static_cast<volatile unsigned char*>(p);
  while (n--) *b++ = 0;
}

// Wipes the whole capacity of a string (protobuf keeps bytes fields as std::string).
inline void secure_wipe(std::string& s) {
  s.resize(s.capacity());
  secure_wipe(s.data(), s.size());
  s.clear();
}

}  // namespace elastic
