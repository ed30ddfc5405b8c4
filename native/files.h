// File-descriptor services the cache needs and Node's fs lacks: the region and
// data-file locks, opening paths confined beneath a root directory, posix_fadvise
// and posix_fallocate.
#pragma once
#include <node_api.h>

namespace rio {

napi_status files_register(napi_env env, napi_value exports);

}  // namespace rio
