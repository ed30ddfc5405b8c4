// crc32c, four implementations chosen once at load (fastest the CPU has):
//  - AVX-512 VPCLMULQDQ folding for inputs of 256 bytes and more (~80 GB/s
//    from L1 on the development machine);
//  - PCLMULQDQ folding of eight 16-byte lanes side by side with the crc32
//    instruction on three streams for inputs of 400 bytes and more, folding
//    alone from 256 bytes, the crc32 instruction below ("pclmul": the path of
//    CPUs without AVX-512 that have SSE4.2 and PCLMULQDQ; ~33 GB/s);
//  - the SSE4.2 crc32 instruction on three interleaved streams (~30 GB/s),
//    after Mark Adler's public-domain crc32c.c;
//  - portable slicing-by-8 (~2 GB/s).
// The polynomial arithmetic (multmodp, x2nmodp) follows zlib's crc32_combine.
//
// The crc32 instruction has a latency of three cycles and a throughput of one
// per cycle, so one stream runs at a third of the possible speed. Large inputs
// are cut into three lanes computed together, then joined: the crc of A||B is
// the crc of A shifted over |B| zero bytes xor the crc of B (raw CRCs are linear).
#include "crc32c.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>

#if defined(__x86_64__) || defined(__i386__)
// GCC 12's own avx512fintrin.h trips -Wuninitialized (an _mm512_undefined
// inside the header); the warning is about the header, not this code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <cpuid.h>
#include <immintrin.h>
#pragma GCC diagnostic pop
#define RIO_X86 1
#endif

namespace rio {
namespace {

constexpr uint32_t kPoly = 0x82f63b78;  // reflected Castagnoli polynomial

// Lane lengths of the interleaved hardware loop (bytes per lane).
constexpr size_t kLaneLong = 8192;
constexpr size_t kLaneShort = 256;

uint32_t table_portable[8][256];
uint32_t shift_long[4][256];   // raw crc shifted over kLaneLong zero bytes
uint32_t shift_short[4][256];  // raw crc shifted over kLaneShort zero bytes
uint32_t x2n_table[32];        // x^(2^n) modulo the polynomial

enum class Impl { kPortable, kSse42, kPclmul, kAvx512 };
Impl impl = Impl::kPortable;
// The pclmul path folds inputs of this many bytes and more; shorter ones take
// the crc32 instruction on three streams. Measured at load (calibrate_pclmul).
size_t pclmul_fold_from = 0;

// a * b modulo the polynomial (bit-reflected).
uint32_t multmodp(uint32_t a, uint32_t b) {
  uint32_t m = 1u << 31;
  uint32_t p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;
  }
  return p;
}

// x^(n * 2^k) modulo the polynomial.
uint32_t x2nmodp(uint64_t n, unsigned k) {
  uint32_t p = 1u << 31;  // x^0
  while (n) {
    if (n & 1) p = multmodp(x2n_table[k & 31], p);
    n >>= 1;
    k++;
  }
  return p;
}

void build_shift_table(uint32_t table[4][256], size_t length) {
  const uint32_t op = x2nmodp(length, 3);  // x^(8 * length)
  for (uint32_t n = 0; n < 256; n++) {
    table[0][n] = multmodp(op, n);
    table[1][n] = multmodp(op, n << 8);
    table[2][n] = multmodp(op, n << 16);
    table[3][n] = multmodp(op, n << 24);
  }
}

inline uint32_t shift(const uint32_t table[4][256], uint32_t crc) {
  return table[0][crc & 0xff] ^ table[1][(crc >> 8) & 0xff] ^
         table[2][(crc >> 16) & 0xff] ^ table[3][crc >> 24];
}

void build_tables() {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t crc = n;
    for (int k = 0; k < 8; k++) crc = (crc & 1) ? (crc >> 1) ^ kPoly : crc >> 1;
    table_portable[0][n] = crc;
  }
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t crc = table_portable[0][n];
    for (int k = 1; k < 8; k++) {
      crc = table_portable[0][crc & 0xff] ^ (crc >> 8);
      table_portable[k][n] = crc;
    }
  }
  uint32_t p = 1u << 30;  // x^1
  x2n_table[0] = p;
  for (int n = 1; n < 32; n++) x2n_table[n] = p = multmodp(p, p);
  build_shift_table(shift_long, kLaneLong);
  build_shift_table(shift_short, kLaneShort);
}

inline uint64_t load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);  // unaligned-safe; compiles to one load
  return v;
}

// Raw (unconditioned) slicing-by-8.
uint32_t raw_portable(uint32_t crc, const unsigned char* p, size_t n) {
  while (n && (reinterpret_cast<uintptr_t>(p) & 7)) {
    crc = table_portable[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    n--;
  }
  while (n >= 8) {
    uint64_t w = load64(p) ^ crc;  // little-endian host assumed (x86, arm64)
    crc = table_portable[7][w & 0xff] ^ table_portable[6][(w >> 8) & 0xff] ^
          table_portable[5][(w >> 16) & 0xff] ^ table_portable[4][(w >> 24) & 0xff] ^
          table_portable[3][(w >> 32) & 0xff] ^ table_portable[2][(w >> 40) & 0xff] ^
          table_portable[1][(w >> 48) & 0xff] ^ table_portable[0][w >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) crc = table_portable[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

#ifdef RIO_X86
__attribute__((target("sse4.2"))) uint32_t raw_hardware(uint32_t crc32, const unsigned char* p,
                                                        size_t n) {
  uint64_t crc0 = crc32;
  while (n && (reinterpret_cast<uintptr_t>(p) & 7)) {
    crc0 = _mm_crc32_u8(static_cast<uint32_t>(crc0), *p++);
    n--;
  }
  // Three lanes of kLaneLong, then of kLaneShort, each joined by table shifts.
  const size_t lanes[2] = {kLaneLong, kLaneShort};
  for (int pass = 0; pass < 2; pass++) {
    const size_t lane = lanes[pass];
    const uint32_t(*table)[256] = pass == 0 ? shift_long : shift_short;
    while (n >= 3 * lane) {
      uint64_t crc1 = 0, crc2 = 0;
      const unsigned char* end = p + lane;
      do {
        crc0 = _mm_crc32_u64(crc0, load64(p));
        crc1 = _mm_crc32_u64(crc1, load64(p + lane));
        crc2 = _mm_crc32_u64(crc2, load64(p + 2 * lane));
        p += 8;
      } while (p < end);
      crc0 = shift(table, static_cast<uint32_t>(crc0)) ^ crc1;
      crc0 = shift(table, static_cast<uint32_t>(crc0)) ^ crc2;
      p += 2 * lane;
      n -= 3 * lane;
    }
  }
  while (n >= 8) {
    crc0 = _mm_crc32_u64(crc0, load64(p));
    p += 8;
    n -= 8;
  }
  while (n--) crc0 = _mm_crc32_u8(static_cast<uint32_t>(crc0), *p++);
  return static_cast<uint32_t>(crc0);
}

// Folding with carry-less multiplication (Intel's "Fast CRC Computation for
// Generic Polynomials Using PCLMULQDQ", reflected form), finished by the crc32
// instruction instead of a Barrett reduction.
//
// A 16-byte chunk whose first 8 bytes hold A(x) and next 8 bytes B(x) stands
// for A*x^64 + B. Moved D bytes later in the message it must become
// (A*x^64 + B) * x^(8D) mod P, which is A*K1 + B*K2 with K1 = x^(8D+64) and
// K2 = x^(8D) mod P (each product below 2^128, so it fits a 16-byte chunk).
// A reflected 64x64 clmul lands its product one bit low, so the multipliers
// are stored as x^(8D+63) and x^(8D-1), in the upper half of a 64-bit lane.
struct FoldConstants {
  uint64_t k_first;   // multiplies the first 8 bytes of a chunk
  uint64_t k_second;  // multiplies the next 8 bytes
};

FoldConstants fold_by(uint64_t distance_bytes) {
  return FoldConstants{static_cast<uint64_t>(x2nmodp(8 * distance_bytes + 63, 0)) << 32,
                       static_cast<uint64_t>(x2nmodp(8 * distance_bytes - 1, 0)) << 32};
}

FoldConstants fold256, fold192, fold128, fold64, fold48, fold32, fold16;
constexpr size_t kFoldMinimum = 256;  // shorter inputs take the crc32 path

__attribute__((target("avx512f,avx512vl,avx512bw,vpclmulqdq,pclmul,sse4.2"))) inline __m512i fold512(
    __m512i x, __m512i k) {
  return _mm512_xor_si512(_mm512_clmulepi64_epi128(x, k, 0x00), _mm512_clmulepi64_epi128(x, k, 0x11));
}

__attribute__((target("avx512f,avx512vl,avx512bw,vpclmulqdq,pclmul,sse4.2"))) inline __m512i broadcast(
    const FoldConstants& f) {
  return _mm512_broadcast_i32x4(_mm_set_epi64x(static_cast<long long>(f.k_second),
                                               static_cast<long long>(f.k_first)));
}

__attribute__((target("avx512f,avx512vl,avx512bw,vpclmulqdq,pclmul,sse4.2"))) inline __m128i fold128x(
    __m128i x, const FoldConstants& f) {
  const __m128i k = _mm_set_epi64x(static_cast<long long>(f.k_second), static_cast<long long>(f.k_first));
  return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

// Raw crc over n >= kFoldMinimum bytes.
__attribute__((target("avx512f,avx512vl,avx512bw,vpclmulqdq,pclmul,sse4.2"))) uint32_t raw_fold(
    uint32_t crc, const unsigned char* p, size_t n) {
  // The crc register enters as the first 32 bits of the message.
  const __m512i init = _mm512_zextsi128_si512(_mm_cvtsi32_si128(static_cast<int>(crc)));
  __m512i x0 = _mm512_xor_si512(_mm512_loadu_si512(p), init);
  __m512i x1 = _mm512_loadu_si512(p + 64);
  __m512i x2 = _mm512_loadu_si512(p + 128);
  __m512i x3 = _mm512_loadu_si512(p + 192);
  p += 256;
  n -= 256;
  const __m512i k256 = broadcast(fold256);
  while (n >= 256) {
    x0 = _mm512_xor_si512(fold512(x0, k256), _mm512_loadu_si512(p));
    x1 = _mm512_xor_si512(fold512(x1, k256), _mm512_loadu_si512(p + 64));
    x2 = _mm512_xor_si512(fold512(x2, k256), _mm512_loadu_si512(p + 128));
    x3 = _mm512_xor_si512(fold512(x3, k256), _mm512_loadu_si512(p + 192));
    p += 256;
    n -= 256;
  }
  // Four accumulators 64 bytes apart into one.
  __m512i x = _mm512_xor_si512(fold512(x0, broadcast(fold192)), fold512(x1, broadcast(fold128)));
  x = _mm512_xor_si512(x, _mm512_xor_si512(fold512(x2, broadcast(fold64)), x3));
  const __m512i k64 = broadcast(fold64);
  while (n >= 64) {
    x = _mm512_xor_si512(fold512(x, k64), _mm512_loadu_si512(p));
    p += 64;
    n -= 64;
  }
  // Four 16-byte lanes into one.
  __m128i y = _mm_xor_si128(fold128x(_mm512_extracti32x4_epi32(x, 0), fold48),
                            fold128x(_mm512_extracti32x4_epi32(x, 1), fold32));
  y = _mm_xor_si128(y, _mm_xor_si128(fold128x(_mm512_extracti32x4_epi32(x, 2), fold16),
                                     _mm512_extracti32x4_epi32(x, 3)));
  while (n >= 16) {
    y = _mm_xor_si128(fold128x(y, fold16), _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    p += 16;
    n -= 16;
  }
  // The last 16 bytes of folded message, then the tail, through crc32.
  uint64_t c = _mm_crc32_u64(0, static_cast<uint64_t>(_mm_cvtsi128_si64(y)));
  c = _mm_crc32_u64(c, static_cast<uint64_t>(_mm_extract_epi64(y, 1)));
  while (n >= 8) {
    c = _mm_crc32_u64(c, load64(p));
    p += 8;
    n -= 8;
  }
  while (n--) c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
  return static_cast<uint32_t>(c);
}

// The same folding with 128-bit registers: eight 16-byte accumulators, each
// folded 128 bytes forward per round, so eight carry-less multiplication
// chains are in flight (their latency is hidden), then folded into one.
FoldConstants fold_lanes[8];  // fold_lanes[j] (j >= 1) moves a chunk 16 * j bytes forward

__attribute__((target("pclmul,sse4.2"))) inline __m128i fold16x(__m128i x, const FoldConstants& f) {
  const __m128i k = _mm_set_epi64x(static_cast<long long>(f.k_second), static_cast<long long>(f.k_first));
  return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

// Raw crc over n >= kFoldMinimum bytes, without AVX-512.
__attribute__((target("pclmul,sse4.2"))) uint32_t raw_fold_sse(uint32_t crc, const unsigned char* p, size_t n) {
  const auto load = [](const unsigned char* q) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(q)); };
  __m128i x[8];
  for (int i = 0; i < 8; i++) x[i] = load(p + 16 * i);
  x[0] = _mm_xor_si128(x[0], _mm_cvtsi32_si128(static_cast<int>(crc)));  // the register enters as message bits
  p += 128;
  n -= 128;
  const __m128i k128 = _mm_set_epi64x(static_cast<long long>(fold128.k_second), static_cast<long long>(fold128.k_first));
  while (n >= 128) {
    for (int i = 0; i < 8; i++) {
      x[i] = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x[i], k128, 0x00), _mm_clmulepi64_si128(x[i], k128, 0x11)),
                           load(p + 16 * i));
    }
    p += 128;
    n -= 128;
  }
  // Accumulator i lies 16 * (7 - i) bytes before the last one.
  __m128i y = x[7];
  for (int i = 0; i < 7; i++) y = _mm_xor_si128(y, fold16x(x[i], fold_lanes[7 - i]));
  while (n >= 16) {
    y = _mm_xor_si128(fold16x(y, fold_lanes[1]), load(p));
    p += 16;
    n -= 16;
  }
  uint64_t c = _mm_crc32_u64(0, static_cast<uint64_t>(_mm_cvtsi128_si64(y)));
  c = _mm_crc32_u64(c, static_cast<uint64_t>(_mm_extract_epi64(y, 1)));
  while (n >= 8) {
    c = _mm_crc32_u64(c, load64(p));
    p += 8;
    n -= 8;
  }
  while (n--) c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
  return static_cast<uint32_t>(c);
}

bool has_pclmul() {
  unsigned eax, ebx, ecx, edx;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_PCLMUL) && (ecx & bit_SSE4_2);
}

bool has_avx512_clmul() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  const bool osxsave = ecx & bit_OSXSAVE, pclmul = ecx & bit_PCLMUL;
  if (!osxsave || !pclmul) return false;
  // The OS must save the ZMM state (XCR0 bits 1, 2, 5, 6, 7).
  unsigned lo, hi;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if ((lo & 0xe6) != 0xe6) return false;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  const bool avx512f = ebx & (1u << 16), avx512bw = ebx & (1u << 30), avx512vl = ebx & (1u << 31);
  const bool vpclmul = ecx & (1u << 10);
  return avx512f && avx512bw && avx512vl && vpclmul;
}
#endif

void build_shift_tables();  // below crc32c_combine's helpers

#ifdef RIO_X86
uint32_t raw_hybrid(uint32_t crc, const unsigned char* p, size_t n);

// Nanoseconds of the fastest of `rounds` runs of f over the buffer.
template <typename F>
double fastest(F f, const unsigned char* p, size_t n, int rounds) {
  double best = 1e18;
  uint32_t sink = 0;
  for (int r = 0; r < rounds; r++) {
    timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    sink ^= f(sink, p, n);
    clock_gettime(CLOCK_MONOTONIC, &b);
    best = std::min(best, (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec));
  }
  volatile uint32_t keep = sink;
  (void)keep;
  return best;
}

// Whether folding beats the three crc32 streams is the CPU's affair: on
// Intel's cores folding runs beside the crc32 unit (the hybrid), on AMD's Zen
// 5 the crc32 streams alone were faster at every size (4 KiB: 15.8 against
// 13.9 GB/s, 64 KiB: 25.5 against 21.5, bench:crc32c). So the two are timed
// once at load on 4 KiB and 64 KiB (the fastest of 16 runs each, about 0.1 ms
// in all), and folding is used from the smallest size where it won. Both
// compute the same checksum: the choice changes only the speed.
void calibrate_pclmul() {
  constexpr size_t kLarge = 64 * 1024;
  static unsigned char buffer[kLarge];
  for (size_t i = 0; i < kLarge; i++) buffer[i] = static_cast<unsigned char>(i * 131 + 7);
  pclmul_fold_from = SIZE_MAX;
  for (const size_t n : {kLarge, size_t(4096)}) {
    const double fold = fastest(raw_hybrid, buffer, n, 16);
    const double streams = fastest(raw_hardware, buffer, n, 16);
    if (fold < streams) pclmul_fold_from = n == kLarge ? kLarge / 4 : kFoldMinimum;
  }
}
#endif

}  // namespace

void crc32c_init() {
  build_tables();
  build_shift_tables();
  impl = Impl::kPortable;
#ifdef RIO_X86
  fold256 = fold_by(256);
  fold192 = fold_by(192);
  fold128 = fold_by(128);
  fold64 = fold_by(64);
  fold48 = fold_by(48);
  fold32 = fold_by(32);
  fold16 = fold_by(16);
  for (int j = 1; j < 8; j++) fold_lanes[j] = fold_by(16 * static_cast<uint64_t>(j));
  unsigned eax, ebx, ecx, edx;
  const bool has_sse42 = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_SSE4_2);
  if (has_sse42) impl = has_avx512_clmul() ? Impl::kAvx512 : has_pclmul() ? Impl::kPclmul : Impl::kSse42;
  // RIOCACHE_CRC32C=portable|sse4.2|pclmul forces a slower implementation
  // (tests, benchmarks); a name the CPU cannot run, or an unknown one, is ignored.
  const char* force = std::getenv("RIOCACHE_CRC32C");
  if (force && std::strcmp(force, "portable") == 0) impl = Impl::kPortable;
  if (force && std::strcmp(force, "sse4.2") == 0 && impl > Impl::kSse42) impl = Impl::kSse42;
  if (force && std::strcmp(force, "pclmul") == 0 && impl > Impl::kPclmul) impl = Impl::kPclmul;
  // RIOCACHE_CRC32C_FOLD=1 folds on the pclmul path whatever the timing says (tests reach its every branch).
  const char* fold = std::getenv("RIOCACHE_CRC32C_FOLD");
  if (impl == Impl::kPclmul) {
    if (fold && std::strcmp(fold, "1") == 0) pclmul_fold_from = kFoldMinimum;
    else calibrate_pclmul();
  }
#endif
}

const char* crc32c_implementation() {
  switch (impl) {
    case Impl::kAvx512: return "avx512-vpclmulqdq";
    case Impl::kPclmul: return "pclmul";
    case Impl::kSse42: return "sse4.2";
    case Impl::kPortable: return "portable";
  }
  return "portable";
}

const char* crc32c_available() {
#ifdef RIO_X86
  unsigned eax, ebx, ecx, edx;
  const bool has_sse42 = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_SSE4_2);
  if (has_sse42 && has_avx512_clmul()) return "avx512-vpclmulqdq,pclmul,sse4.2,portable";
  if (has_sse42 && has_pclmul()) return "pclmul,sse4.2,portable";
  if (has_sse42) return "sse4.2,portable";
#endif
  return "portable";
}

uint32_t crc32c_extend_portable(uint32_t crc, const void* data, size_t length) {
  return ~raw_portable(~crc, static_cast<const unsigned char*>(data), length);
}

uint32_t crc32c_extend(uint32_t crc, const void* data, size_t length) {
#ifdef RIO_X86
  const unsigned char* p = static_cast<const unsigned char*>(data);
  if (impl == Impl::kAvx512 && length >= kFoldMinimum) return ~raw_fold(~crc, p, length);
  if (impl == Impl::kPclmul && length >= pclmul_fold_from) return ~raw_hybrid(~crc, p, length);
  if (impl != Impl::kPortable) return ~raw_hardware(~crc, p, length);
#endif
  return crc32c_extend_portable(crc, data, length);
}

namespace {
// x^(8t) mod P for t < kShiftNear, and x^(8 * kShiftNear * q) for q < kShiftFar:
// a shift over t zero bytes is then one or two multiplications.
constexpr size_t kShiftNear = 4096;
constexpr size_t kShiftFar = 1024;
uint32_t shift_near[kShiftNear];
uint32_t shift_far[kShiftFar];
// The same powers divided by x^32 (x^(8t - 32), for t >= 4 and q >= 1): the
// multipliers of the carry-less product, whose reduction by the crc32
// instruction multiplies by x^32 again.
uint32_t shift_near_clmul[kShiftNear];
uint32_t shift_far_clmul[kShiftFar];
bool shift_tables = false;

void build_shift_tables() {
  for (size_t t = 0; t < kShiftNear; t++) shift_near[t] = x2nmodp(t, 3);
  for (size_t q = 0; q < kShiftFar; q++) shift_far[q] = x2nmodp(q * kShiftNear, 3);
  for (size_t t = 4; t < kShiftNear; t++) shift_near_clmul[t] = x2nmodp(t - 4, 3);
  for (size_t q = 1; q < kShiftFar; q++) shift_far_clmul[q] = x2nmodp(q * kShiftNear - 4, 3);
  shift_tables = true;
}

#ifdef RIO_X86
// Raw crc (zero register, no inversion) of a ^ b, a word at a time.
__attribute__((target("sse4.2"))) uint32_t raw_difference(const unsigned char* a, const unsigned char* b, size_t length) {
  uint64_t c = 0;
  size_t i = 0;
  for (; i + 8 <= length; i += 8) c = _mm_crc32_u64(c, load64(a + i) ^ load64(b + i));
  uint32_t raw = static_cast<uint32_t>(c);
  for (; i < length; i++) raw = _mm_crc32_u8(raw, static_cast<unsigned char>(a[i] ^ b[i]));
  return raw;
}
#endif

#ifdef RIO_X86
// a * b * x^32 mod P in a few cycles: the 64x64 carry-less product of two
// reflected 32-bit polynomials, shifted up one bit, is the reflected 64-bit
// product, and crc32 of those 8 bytes from a zero register is that product
// times x^32, reduced.
__attribute__((target("pclmul,sse4.2"))) inline uint32_t multmodp_x32(uint32_t a, uint32_t b) {
  const __m128i p = _mm_clmulepi64_si128(_mm_cvtsi32_si128(static_cast<int>(a)), _mm_cvtsi32_si128(static_cast<int>(b)), 0);
  return static_cast<uint32_t>(_mm_crc32_u64(0, static_cast<uint64_t>(_mm_cvtsi128_si64(p)) << 1));
}

// shift_zeros with carry-less multiplication (CPUs with PCLMULQDQ).
uint32_t shift_zeros_clmul(uint32_t crc, uint64_t tail) {
  const uint64_t q = tail / kShiftNear, r = tail % kShiftNear;
  if (q >= kShiftFar) return multmodp(x2nmodp(tail, 3), crc);
  if (q > 0) crc = multmodp_x32(crc, shift_far_clmul[q]);
  return r >= 4 ? multmodp_x32(crc, shift_near_clmul[r]) : multmodp(shift_near[r], crc);
}

// The pclmul path for inputs of kHybridMinimum bytes and more: PCLMULQDQ
// folding of eight 16-byte lanes and the crc32 instruction on three streams
// run side by side, so both execution ports work on every cycle (the
// carry-less multiplier alone, or the crc32 unit alone, does about 8 bytes a
// cycle). A chunk of 272 * k + 128 bytes is cut into a folded part of
// 128 * (k + 1) bytes followed by three crc32 lanes of 48 * k bytes; each loop
// round folds four lanes (64 bytes) and takes three crc32 steps in each
// stream (72 bytes). The parts are joined by shifting the crc over each
// lane's length, one carry-less multiplication each (crc32c is linear).
constexpr size_t kHybridRoundsMax = 85;  // keeps a lane (48 * k bytes) under kShiftNear
constexpr size_t kHybridMinimum = 272 + 128;

__attribute__((target("pclmul,sse4.2"))) uint32_t raw_hybrid_chunk(uint32_t crc, const unsigned char* p, size_t k) {
  const auto load = [](const unsigned char* q) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(q)); };
  const size_t vector_bytes = 128 * (k + 1), lane = 48 * k;
  const unsigned char* s0 = p + vector_bytes;
  const unsigned char* s1 = s0 + lane;
  const unsigned char* s2 = s1 + lane;
  __m128i x[8];
  for (int i = 0; i < 8; i++) x[i] = load(p + 16 * i);
  x[0] = _mm_xor_si128(x[0], _mm_cvtsi32_si128(static_cast<int>(crc)));
  const unsigned char* v = p + 128;
  const __m128i k128 = _mm_set_epi64x(static_cast<long long>(fold128.k_second), static_cast<long long>(fold128.k_first));
  uint64_t c0 = 0, c1 = 0, c2 = 0;
  for (size_t r = 0; r < k; r++) {
    for (int half = 0; half < 2; half++) {
      for (int i = 4 * half; i < 4 * half + 4; i++) {
        x[i] = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x[i], k128, 0x00), _mm_clmulepi64_si128(x[i], k128, 0x11)),
                             load(v + 16 * i));
      }
      for (int j = 0; j < 3; j++) {
        c0 = _mm_crc32_u64(c0, load64(s0));
        c1 = _mm_crc32_u64(c1, load64(s1));
        c2 = _mm_crc32_u64(c2, load64(s2));
        s0 += 8;
        s1 += 8;
        s2 += 8;
      }
    }
    v += 128;
  }
  __m128i y = x[7];
  for (int i = 0; i < 7; i++) y = _mm_xor_si128(y, fold16x(x[i], fold_lanes[7 - i]));
  uint64_t c = _mm_crc32_u64(0, static_cast<uint64_t>(_mm_cvtsi128_si64(y)));
  c = _mm_crc32_u64(c, static_cast<uint64_t>(_mm_extract_epi64(y, 1)));
  // Join: (((V . S0) . S1) . S2), each step a shift over one lane.
  const uint32_t over_lane = shift_near_clmul[lane];
  uint32_t joined = multmodp_x32(static_cast<uint32_t>(c), over_lane) ^ static_cast<uint32_t>(c0);
  joined = multmodp_x32(joined, over_lane) ^ static_cast<uint32_t>(c1);
  return multmodp_x32(joined, over_lane) ^ static_cast<uint32_t>(c2);
}

uint32_t raw_hybrid(uint32_t crc, const unsigned char* p, size_t n) {
  while (n >= kHybridMinimum) {
    const size_t k = std::min(kHybridRoundsMax, (n - 128) / 272);
    crc = raw_hybrid_chunk(crc, p, k);
    p += 272 * k + 128;
    n -= 272 * k + 128;
  }
  if (n >= kFoldMinimum) return raw_fold_sse(crc, p, n);
  return raw_hardware(crc, p, n);
}
#endif

uint32_t shift_zeros(uint32_t crc, uint64_t tail) {
  if (!shift_tables) build_shift_tables();
  const uint64_t q = tail / kShiftNear;
  if (q >= kShiftFar) return multmodp(x2nmodp(tail, 3), crc);
  if (q > 0) crc = multmodp(shift_far[q], crc);
  return multmodp(shift_near[tail % kShiftNear], crc);
}
}  // namespace

namespace {
// Raw crc of a ^ b for long ranges: the difference goes through a small
// buffer on the stack, a piece at a time, into the fastest implementation
// (raw_difference's one crc32 stream runs at a third of the instruction's
// throughput: a 4 KiB patch would cost more than a full recompute).
uint32_t raw_difference_fast(const unsigned char* a, const unsigned char* b, size_t length) {
  constexpr size_t kPiece = 2048;
  alignas(64) unsigned char diff[kPiece];
  uint32_t raw = 0;
  while (length > 0) {
    const size_t n = length < kPiece ? length : kPiece;
    for (size_t i = 0; i < n; i++) diff[i] = a[i] ^ b[i];
    raw = ~crc32c_extend(~raw, diff, n);  // raw continuation: no conditioning
    a += n;
    b += n;
    length -= n;
  }
  return raw;
}
constexpr size_t kPatchDirectMax = 256;  // shorter differences: one crc32 stream, no copy
}  // namespace

uint32_t crc32c_patch(uint32_t crc, const void* old_bytes, const void* new_bytes, size_t length, uint64_t tail) {
  const unsigned char* a = static_cast<const unsigned char*>(old_bytes);
  const unsigned char* b = static_cast<const unsigned char*>(new_bytes);
  if (impl != Impl::kPortable && length > kPatchDirectMax) {
    const uint32_t raw = raw_difference_fast(a, b, length);
#ifdef RIO_X86
    if (impl >= Impl::kPclmul) return crc ^ shift_zeros_clmul(raw, tail);
#endif
    return crc ^ shift_zeros(raw, tail);
  }
  // Raw crc (zero register, no inversion) of the difference, a word at a time.
  uint32_t raw = 0;
#ifdef RIO_X86
  if (impl >= Impl::kPclmul) return crc ^ shift_zeros_clmul(raw_difference(a, b, length), tail);
  if (impl != Impl::kPortable) return crc ^ shift_zeros(raw_difference(a, b, length), tail);
#endif
  for (size_t i = 0; i < length; i++) raw = table_portable[0][(raw ^ (a[i] ^ b[i])) & 0xff] ^ (raw >> 8);
  return crc ^ shift_zeros(raw, tail);
}

uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b) {
  return multmodp(x2nmodp(length_b, 3), crc_a) ^ crc_b;
}

}  // namespace rio
