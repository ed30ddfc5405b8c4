// Per-environment state (one per Node thread that loads the addon): the table
// of registered region views and the scratch block that hot-path calls read
// their arguments from.
#pragma once
#include <node_api.h>

#include <cstddef>
#include <memory>
#include <vector>

namespace rio {

struct View {
  unsigned char* base = nullptr;
  size_t length = 0;  // 0 once the mapping is unmapped: every access then fails
};

constexpr size_t kScratchSlots = 16;

struct Instance {
  double scratch[kScratchSlots] = {};
  std::vector<View> views;  // indexed by view id; ids are never reused
  // The bounce buffer of the reads of the region file (reads.cc), kept: a
  // fresh allocation would fault its pages in on every call.
  std::vector<unsigned char> bounce;
};

// Mappings hold a shared_ptr too: environment teardown may finalize the
// instance data before or after the last mapping, in either order.
const std::shared_ptr<Instance>& instance(napi_env env);

}  // namespace rio
