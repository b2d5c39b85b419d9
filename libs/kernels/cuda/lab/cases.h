// The lab's case groups (one file each) and the timing section.
#pragma once
#include <cstring>

#include "lab.h"

namespace lab {

/** Whether lwz_init found cuBLASLt (its description names the library then). */
inline bool cublasLoaded() { return std::strstr(lwz_describe(), "GEMM: cuBLASLt") != nullptr; }

void runLinearCases(Rng& rng, bool quick);
void runAttentionCases(Rng& rng, bool quick);
void runRowCases(Rng& rng, bool quick);
void runTimings();

}  // namespace lab
