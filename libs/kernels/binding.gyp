# The cpu backend's Node-API addon (lwz_cpu.node). Built offline by tools/build-native.mjs through node-gyp
# with the machine's g++: baseline x86-64 code plus AVX2 and AVX-512 kernels chosen at run time, a small
# persistent thread pool. -fno-trapping-math lets loops with selects (fastExp's clamps) vectorise; no flag
# reorders floating-point arithmetic. Sources are listed explicitly so a new kernel file is a visible change.
# -falign-loops=64 starts every loop on a cache line: without it the GEMM's speed followed where the linker
# happened to place the micro-kernels (identical object code for gemm*.o, 3-15 % slower on Zen 3 after an
# unrelated file was added; benchmarks/README.md, 2026-11-29 12:10-13:05 section).
{
  "targets": [
    {
      "target_name": "lwz_cpu",
      "sources": [
        "native/module.cpp",
        "native/runtime.cpp",
        "native/hugepages.cpp",
        "native/cpuinfo.cpp",
        "native/pool.cpp",
        "native/gemm.cpp",
        "native/gemm_fewcolumns.cpp",
        "native/gemm_fewrows.cpp",
        "native/gemm_pack.cpp",
        "native/blocking.cpp",
        "native/gemv.cpp",
        "native/gemm_avx512.cpp",
        "native/gemm_avx2.cpp",
        "native/gemm_generic.cpp",
        "native/matmul.cpp",
        "native/attention_fwd.cpp",
        "native/attention_fwd_packed.cpp",
        "native/attention_decode.cpp",
        "native/attention_decode_avx512.cpp",
        "native/attention_decode_avx2.cpp",
        "native/attention_bwd.cpp",
        "native/attention_bwd_packed.cpp",
        "native/attention_pack.cpp",
        "native/elementwise.cpp",
        "native/copy.cpp",
        "native/embedding.cpp",
        "native/rmsnorm.cpp",
        "native/rope.cpp",
        "native/swiglu.cpp",
        "native/softmax.cpp",
        "native/logprobs.cpp",
        "native/entropy.cpp",
        "native/rowpass.cpp",
        "native/rowpass_avx512.cpp",
        "native/rowpass_avx2.cpp",
        "native/adamw.cpp",
        "native/sample.cpp",
        "native/bandwidth.cpp",
        "native/blas.cpp",
        "native/introspect.cpp"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-falign-loops=64"],
      "cflags_cc": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-std=gnu++17"],
      "ldflags": ["-pthread"],
      "libraries": ["-ldl"]
    }
  ]
}
