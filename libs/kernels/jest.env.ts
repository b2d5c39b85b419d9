// Test environment of the kernels project: our own kernels answer every call (LWZ_BLAS=own unless the caller
// set LWZ_BLAS), so a conformance test of a large GEMM checks our code, not a system BLAS the routing plan
// picked on a machine that has one. The routing itself is tested in src/cpu/blas.test.ts with explicit settings.
// Likewise a GEMM tuning cached on this machine (`nx run kernels:tune`) is not applied: the default paths are the
// ones tested, and src/cpu/tune.test.ts sets each candidate explicitly.
process.env.LWZ_BLAS ??= 'own';
process.env.LWZ_GEMM_TUNE ??= 'off';
