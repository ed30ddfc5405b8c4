// crc32c (Castagnoli): hardware (AVX-512 or PCLMULQDQ folding, or SSE4.2 on
// three interleaved streams) with a portable slicing-by-8 fallback, chosen once at load.
#pragma once
#include <cstddef>
#include <cstdint>

namespace rio {

// Standard (conditioned) crc32c: crc32c(data) == crc32c_extend(0, data).
// Passing a previous result as `crc` continues the checksum over more bytes.
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t length);

// The checksum of A||B from crc(A), crc(B) and the length of B.
uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b);

// The checksum of a message after `length` bytes at some offset changed from
// `old_bytes` to `new_bytes`, when `tail` bytes of the message follow them:
// crc ^ shift(raw crc of (old ^ new), tail). crc32c is linear, so the bytes
// that did not change need not be read again.
uint32_t crc32c_patch(uint32_t crc, const void* old_bytes, const void* new_bytes, size_t length, uint64_t tail);

// The portable implementation, for tests and as the reference for the fast one.
uint32_t crc32c_extend_portable(uint32_t crc, const void* data, size_t length);

// "avx512-vpclmulqdq", "pclmul", "sse4.2" or "portable": the implementation in use.
const char* crc32c_implementation();

// The implementations this CPU can run, fastest first, comma-separated.
const char* crc32c_available();

// Chooses the implementation; RIOCACHE_CRC32C=portable|sse4.2|pclmul forces a slower one.
void crc32c_init();

}  // namespace rio
