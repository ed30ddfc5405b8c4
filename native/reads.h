// File reads of the data path (pread into a caller's buffer or into region
// buffers, RWF_NOWAIT on request): see reads.cc.
#pragma once
#include <node_api.h>

namespace rio {

napi_status reads_register(napi_env env, napi_value exports);

}  // namespace rio
