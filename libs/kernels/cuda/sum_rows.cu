// sumRows: out (C,) f32 (+)= column sums of a (N, C), the backward of a broadcast add. See colsum.cuh.
#include "colsum.cuh"

namespace lwz {
namespace {

template <typename T>
struct Entry {
  const T* a;
  int64_t c;
  __device__ float operator()(int64_t r, int64_t col) const { return ld(a, r * c + col); }
};

}  // namespace
}  // namespace lwz

using namespace lwz;

extern "C" int lwz_sum_rows(const void* a, int adt, float* out, int64_t n, int64_t c, int accumulate) {
  const char* name = "sumRowsForward";
  if (requireInit(name)) return -1;
  return withDtype(adt, name, [&](auto tag) {
    using T = decltype(tag);
    return colsum(name, Entry<T>{static_cast<const T*>(a), c}, out, n, c, accumulate != 0);
  });
}
