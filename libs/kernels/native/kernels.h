// Node-API entry points, one per kernel of the contract (libs/kernels/src/kernel-signatures.ts). Each takes
// typed arrays (borrowed zero-copy) and sizes in the order documented above its definition.
#pragma once
#include <node_api.h>

namespace lwz {

napi_value matmulForward(napi_env env, napi_callback_info info);

}  // namespace lwz
