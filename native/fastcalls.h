// Hot-path entry points that take no JavaScript arguments: the caller stores
// numbers into a shared Float64Array (the scratch block) and calls. This skips
// argument unpacking, which costs more than a 100-byte checksum.
#pragma once
#include <node_api.h>

namespace rio {

napi_status fastcalls_register(napi_env env, napi_value exports);

}  // namespace rio
