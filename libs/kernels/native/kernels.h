// Node-API entry points, one per kernel of the contract (libs/kernels/src/kernel-signatures.ts). Each takes
// typed arrays (borrowed zero-copy) and sizes in the order documented above its definition.
#pragma once
#include <node_api.h>

namespace lwz {

napi_value copyForward(napi_env env, napi_callback_info info);
napi_value copyAtForward(napi_env env, napi_callback_info info);
napi_value packedMatmulLayout(napi_env env, napi_callback_info info);
napi_value packMatmulB(napi_env env, napi_callback_info info);
napi_value fillForward(napi_env env, napi_callback_info info);
napi_value matmulForward(napi_env env, napi_callback_info info);
napi_value attentionForward(napi_env env, napi_callback_info info);
napi_value attentionBackward(napi_env env, napi_callback_info info);
napi_value addForward(napi_env env, napi_callback_info info);
napi_value mulForward(napi_env env, napi_callback_info info);
napi_value scaleForward(napi_env env, napi_callback_info info);
napi_value sumRowsForward(napi_env env, napi_callback_info info);
napi_value embeddingForward(napi_env env, napi_callback_info info);
napi_value embeddingBackward(napi_env env, napi_callback_info info);
napi_value rmsnormForward(napi_env env, napi_callback_info info);
napi_value rmsnormBackward(napi_env env, napi_callback_info info);
napi_value ropeForward(napi_env env, napi_callback_info info);
napi_value swigluForward(napi_env env, napi_callback_info info);
napi_value swigluBackward(napi_env env, napi_callback_info info);
napi_value softmaxForward(napi_env env, napi_callback_info info);
napi_value tokenLogprobsForward(napi_env env, napi_callback_info info);
napi_value tokenLogprobsBackward(napi_env env, napi_callback_info info);
napi_value entropyForward(napi_env env, napi_callback_info info);
napi_value adamwStep(napi_env env, napi_callback_info info);
napi_value sumSquares(napi_env env, napi_callback_info info);
napi_value sampleForward(napi_env env, napi_callback_info info);
// runtime introspection and steering (introspect.cpp), bandwidth probe (bandwidth.cpp)
napi_value cpuDetails(napi_env env, napi_callback_info info);
napi_value bufferMisalign(napi_env env, napi_callback_info info);
napi_value adviseHugePages(napi_env env, napi_callback_info info);
napi_value hugePageKb(napi_env env, napi_callback_info info);
napi_value setGemmBlockingFn(napi_env env, napi_callback_info info);
napi_value setGemmPathsFn(napi_env env, napi_callback_info info);
napi_value gemmTimeFn(napi_env env, napi_callback_info info);
napi_value gemmPathFn(napi_env env, napi_callback_info info);
napi_value blasLoadFn(napi_env env, napi_callback_info info);
napi_value blasTimeFn(napi_env env, napi_callback_info info);
napi_value blasSetPlanFn(napi_env env, napi_callback_info info);
napi_value streamCopy(napi_env env, napi_callback_info info);
napi_value streamTriad(napi_env env, napi_callback_info info);
napi_value streamRead(napi_env env, napi_callback_info info);

}  // namespace lwz
