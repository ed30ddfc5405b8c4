#include "persist.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define RIO_X86 1
#endif

namespace rio {
namespace {

constexpr uintptr_t kCacheLine = 64;
FlushInstruction chosen = FlushInstruction::kNone;
bool forced = false;

#ifdef RIO_X86
__attribute__((target("clwb"))) void flush_clwb(uintptr_t from, uintptr_t to) {
  for (uintptr_t p = from; p < to; p += kCacheLine) _mm_clwb(reinterpret_cast<void*>(p));
}
__attribute__((target("clflushopt"))) void flush_clflushopt(uintptr_t from, uintptr_t to) {
  for (uintptr_t p = from; p < to; p += kCacheLine) _mm_clflushopt(reinterpret_cast<void*>(p));
}
void flush_clflush(uintptr_t from, uintptr_t to) {
  for (uintptr_t p = from; p < to; p += kCacheLine) _mm_clflush(reinterpret_cast<void*>(p));
}

FlushInstruction detect() {
  unsigned eax, ebx, ecx, edx;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
    if (ebx & (1u << 24)) return FlushInstruction::kClwb;
    if (ebx & (1u << 23)) return FlushInstruction::kClflushopt;
  }
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) && (edx & (1u << 19))) {
    return FlushInstruction::kClflush;
  }
  return FlushInstruction::kNone;
}
#else
FlushInstruction detect() { return FlushInstruction::kNone; }
#endif

}  // namespace

void persist_init() {
  const FlushInstruction available = detect();
  chosen = available;
  forced = false;
  const char* force = std::getenv("RIOCACHE_FLUSH");
  if (!force || !*force) return;
  // A forced instruction must exist on this CPU: executing clwb where it is
  // missing raises SIGILL. An impossible request falls back to detection.
  struct {
    const char* name;
    FlushInstruction instruction;
  } const names[] = {{"none", FlushInstruction::kNone},
                     {"clflush", FlushInstruction::kClflush},
                     {"clflushopt", FlushInstruction::kClflushopt},
                     {"clwb", FlushInstruction::kClwb}};
  for (const auto& n : names) {
    if (std::strcmp(force, n.name) != 0) continue;
    if (n.instruction <= available) {  // each instruction implies the older ones
      chosen = n.instruction;
      forced = true;
    }
  }
}

FlushInstruction flush_instruction() { return chosen; }
bool flush_instruction_forced() { return forced; }

const char* flush_instruction_name() {
  switch (chosen) {
    case FlushInstruction::kClwb: return "clwb";
    case FlushInstruction::kClflushopt: return "clflushopt";
    case FlushInstruction::kClflush: return "clflush";
    case FlushInstruction::kNone: return "none";
  }
  return "none";
}

void flush_nodrain(const void* addr, size_t length) {
  if (length == 0) return;
  const uintptr_t from = reinterpret_cast<uintptr_t>(addr) & ~(kCacheLine - 1);
  const uintptr_t to = reinterpret_cast<uintptr_t>(addr) + length;
#ifdef RIO_X86
  switch (chosen) {
    case FlushInstruction::kClwb: flush_clwb(from, to); return;
    case FlushInstruction::kClflushopt: flush_clflushopt(from, to); return;
    case FlushInstruction::kClflush: flush_clflush(from, to); return;
    case FlushInstruction::kNone: return;
  }
#else
  (void)from;
  (void)to;
#endif
}

void fence() {
#ifdef RIO_X86
  _mm_sfence();
#else
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

}  // namespace rio
