// Cache-line flush and store fence, PMDK-style: persist = flush + fence.
// The flush instruction is chosen once at load: clwb, else clflushopt, else
// clflush. RIOCACHE_FLUSH=clwb|clflushopt|clflush|none forces one (tests).
#pragma once
#include <cstddef>

namespace rio {

enum class FlushInstruction { kNone, kClflush, kClflushopt, kClwb };

void persist_init();
FlushInstruction flush_instruction();
const char* flush_instruction_name();
bool flush_instruction_forced();

// Writes back every cache line of [addr, addr+length) without waiting.
void flush_nodrain(const void* addr, size_t length);
// Orders all earlier flushes and stores before any later store (sfence).
void fence();

}  // namespace rio
