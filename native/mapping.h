// A MAP_SHARED mapping of a region file, exposed to JavaScript as external
// ArrayBuffers over sub-ranges ("views"): typed arrays cap at 2^32 elements,
// so a region larger than 4 GiB is seen through several views.
#pragma once
#include <node_api.h>

namespace rio {

napi_status mapping_register(napi_env env, napi_value exports);

}  // namespace rio
