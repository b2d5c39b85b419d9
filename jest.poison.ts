// Every test process poisons the cpu backend's host pool (LWZ_HOST_POOL_POISON=1, unless the caller set it):
// buffers given back are filled with NaN (f32) or -2^31 (i32), so an op or a model step that reads an `empty`
// output before writing all of it fails its comparison instead of reading the zeros a recycled buffer
// happened to hold. Child processes the tests spawn inherit it.
process.env.LWZ_HOST_POOL_POISON ??= '1';
