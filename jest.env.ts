// Every test process runs our own kernels as the tests were written against them, whatever the machine has
// installed or cached: LWZ_BLAS=own (under the default `auto` a machine with OpenBLAS calibrates once and routes
// some GEMM shapes to it; jest's parallel workers and the CLIs the tests spawn could then calibrate apart and
// differ in float rounding, so a run compared bit for bit with its resumed twin could differ) and LWZ_GEMM_TUNE=off
// (a tuning table cached by `nx run kernels:tune` is not applied: the default paths are the ones tested).
// The routing and the tuning are tested with explicit settings (libs/kernels/src/cpu/blas.test.ts, tune.test.ts).
// A caller's own setting is kept; child processes the tests spawn inherit these.
process.env.LWZ_BLAS ??= 'own';
process.env.LWZ_GEMM_TUNE ??= 'off';
