#!/usr/bin/env bash
# The GPU check of the cuda backend (issue #14), one command on a GPU machine with nvcc and Python + PyTorch
# (no network, no installs, no Node needed):   bash tools/gpu-check/run.sh [--quick]
#  1. prints what the machine has (GPU, driver, nvcc, Python/PyTorch, Node);
#  2. builds the backend for this GPU (libs/kernels/cuda/build.sh: sm_80 + sm_90 + PTX, the lab binary);
#  3. lwz-cuda-lab: every kernel against float64 CPU references (both storage dtypes, every attention version,
#     both GEMM engines), then its own timings;
#  4. bench.py: GEMM vs torch.matmul, attention vs SDPA, a qwen2.5-0.5b training step at T = 4096 vs PyTorch
#     (MFU), decode tokens/s at batch 1 / 32 / 128; RATIO lines;
#  5. when Node and node_modules are there, the real addon through the jest conformance suite (REQUIRE_CUDA=1).
#     A machine without Node gets both from .gpu-carry/ (made here by tools/gpu-check/pack-node.sh, carried).
# Logs go to $OUT (the device tool's folder) or /tmp/gpu-check. Exit status: non-zero when a check failed.
#   --quick          smaller lab cases and benchmark shapes (a first look, about half the time)
#   --steps LIST     a subset of lab,timings,bench,jest (default: all); the build always runs
#   --prebuilt F     skip the build: F is a .tar.xz (or folder) holding liblwz_cuda.so, lwz-cuda-lab and lwz_cuda.node
#                    built elsewhere with the same nvcc (LWZ_CUDA_ARCHS=90 LAB=1 NODE_INCLUDE=... build.sh); saves the
#                    device minutes the build takes
#   env LWZ_GPU_LAB_S, LWZ_GPU_JEST_S, LWZ_GPU_BENCH_S: each step's time limit in seconds (240, 150, 300)
# Steps run in the order lab (conformance, then timings), jest, bench: correctness first when time runs out.
set -uo pipefail
cd "$(dirname "$0")/../.."
quick=
steps=lab,timings,bench,jest
prebuilt=
while (($#)); do
  case $1 in
  --quick) quick=--quick ;;
  --steps) steps=${2:?--steps needs a list}; shift ;;
  --prebuilt) prebuilt=${2:?--prebuilt needs a .tar.xz or a folder}; shift ;;
  *) echo "usage: run.sh [--quick] [--steps lab,timings,bench,jest] [--prebuilt F]" >&2; exit 2 ;;
  esac
  shift
done
want() { [[ ,$steps, == *,$1,* ]]; }
out=${OUT:-/tmp/gpu-check}
build=/tmp/gpu-check-build  # not under $out: the device tool brings back a few files, not a build tree
mkdir -p "$out"
export PATH="$PATH:/usr/local/cuda/bin"
status=0
started=$(date +%s)
step() { echo; echo "== $* ($(($(date +%s) - started)) s)"; }

# Node and jest's packages from .gpu-carry when this machine has none (pack-node.sh); nothing is installed
source tools/gpu-check/unpack-carry.sh

{
  step "machine"
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap,clocks.max.sm --format=csv 2>&1 || nvidia-smi 2>&1 | head -15
  nvcc --version 2>&1 | tail -n 2
  g++ --version 2>&1 | head -n 1
  echo "cpu: $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2-)"
  echo "cpus $(nproc), $(free -g 2>/dev/null | awk '/Mem:/ {print $2 " GiB RAM"}')"
  python=$(command -v python3 || command -v python || true)
  echo "python: ${python:-none} $($python --version 2>&1)"
  $python -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'gpu', torch.cuda.is_available() and torch.cuda.get_device_name())" 2>&1
  echo "node: $(command -v node || echo absent) $(node --version 2>/dev/null)"
} 2>&1 | tee "$out/machine.txt"
python=$(command -v python3 || command -v python || true)

step "build" | tee "$out/build.txt"
if [[ -n $prebuilt ]]; then
  # only what the archive holds: a file left by an earlier build here must not stand in for a missing one
  rm -f "$build"/liblwz_cuda.so "$build"/lwz-cuda-lab "$build"/lwz_cuda.node
  mkdir -p "$build"
  if [[ -d $prebuilt ]]; then cp "$prebuilt"/* "$build"/; else tar -C "$build" -xJf "$prebuilt"; fi
  for f in liblwz_cuda.so lwz-cuda-lab lwz_cuda.node; do
    if [[ ! -f $build/$f ]]; then echo "BUILD FAILED: --prebuilt $prebuilt has no $f" | tee -a "$out/build.txt"; exit 1; fi
  done
  echo "prebuilt: $prebuilt ($(cd "$build" && ls liblwz_cuda.so lwz-cuda-lab lwz_cuda.node | tr '\n' ' '))" >>"$out/build.txt"
else
  cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .')
  archs=80,90
  if [[ -n $cc && ,$archs, != *,$cc,* ]]; then archs="$archs,$cc"; fi
  node_include=
  if command -v node >/dev/null; then node_include="$(dirname "$(command -v node)")/../include/node"; fi
  if [[ ! -f $node_include/node_api.h ]]; then node_include=; fi
  if ! timeout 240 env LWZ_CUDA_ARCHS=$archs LAB=1 NODE_INCLUDE="$node_include" bash libs/kernels/cuda/build.sh "$build" >>"$out/build.txt" 2>&1; then
    tail -n 40 "$out/build.txt"
    echo "BUILD FAILED (full log: $out/build.txt)"
    exit 1
  fi
fi
tail -n 1 "$out/build.txt"
# where the backend and its tests look for the addon by default (build-cuda/ is ignored by git)
if [[ -f $build/lwz_cuda.node ]]; then mkdir -p libs/kernels/build-cuda && cp "$build/lwz_cuda.node" libs/kernels/build-cuda/; fi

# cuBLASLt: the toolkit's when it has one (same CUDA version as the build), else the one PyTorch's wheels ship
if [[ -z ${LWZ_CUBLASLT:-} ]] && ! ls /usr/local/cuda/lib64/libcublasLt.so* >/dev/null 2>&1 && [[ -n $python ]]; then
  LWZ_CUBLASLT=$($python - <<'EOF' 2>/dev/null
import glob, os, site, torch
dirs = site.getsitepackages() + [os.path.dirname(os.path.dirname(torch.__file__))]
pats = ["nvidia/*/lib/libcublasLt.so*", "nvidia/lib/libcublasLt.so*", "torch/lib/libcublasLt.so*"]
hits = sorted({p for d in dirs for pat in pats for p in glob.glob(os.path.join(d, pat))})
print(hits[0] if hits else "")
EOF
  )
  export LWZ_CUBLASLT
fi
echo "LWZ_CUBLASLT=${LWZ_CUBLASLT:-(default search)}"

if want lab || want timings; then
  step "lab: $(want lab && echo 'conformance against CPU references')$(want lab && want timings && echo ', then ')$(want timings && echo timings)" |
    tee "$out/lab.txt"
  lab_args=($quick)
  if want timings; then lab_args+=(--bench); fi
  if ! want lab; then lab_args+=(--only none); fi
  timeout "${LWZ_GPU_LAB_S:-240}" "$build/lwz-cuda-lab" "${lab_args[@]}" 2>&1 | tee -a "$out/lab.txt"
  lab=${PIPESTATUS[0]}
  if ((lab != 0)); then
    echo "LAB FAILED (exit $lab)"
    status=1
  fi
fi

if ! want jest; then
  : >"$out/jest.txt"
elif command -v node >/dev/null && [[ -d node_modules/jest && -f $build/lwz_cuda.node ]]; then
  # the cpu addon joins in when it was built (or carried: libs/kernels/build/Release/lwz_cpu.node); else cpu skips
  step "jest conformance on the real addon (REQUIRE_CUDA=1)" | tee "$out/jest.txt"
  REQUIRE_CUDA=1 LWZ_CUDA_ADDON="$build/lwz_cuda.node" timeout "${LWZ_GPU_JEST_S:-150}" node --experimental-vm-modules --no-warnings=ExperimentalWarning \
    node_modules/jest/bin/jest.js --config libs/kernels/jest.config.js libs/kernels/src/conformance libs/kernels/src/cuda 2>&1 |
    tee -a "$out/jest.txt" | tail -n 60
  if ((PIPESTATUS[0] != 0)); then status=1; fi
else
  echo "Node or node_modules absent: the jest conformance of the addon was not run" | tee "$out/jest.txt"
fi

if ! want bench; then
  : >"$out/bench.txt"
elif [[ -n $python ]] && $python -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
  step "python self-test (CPU), then PyTorch comparisons" | tee "$out/bench.txt"
  timeout 60 $python tools/gpu-check/selftest.py 2>&1 | tee -a "$out/bench.txt" || status=1
  PYTHONUNBUFFERED=1 timeout "${LWZ_GPU_BENCH_S:-300}" $python tools/gpu-check/bench.py --lib "$build/liblwz_cuda.so" $quick 2>&1 | tee -a "$out/bench.txt"
  if ((PIPESTATUS[0] != 0)) || grep -q '^FAIL' "$out/bench.txt"; then status=1; fi
else
  echo "no Python with CUDA PyTorch: skipped the PyTorch comparisons" | tee "$out/bench.txt"
fi

step "summary"
grep -h -E '^(FAIL|RATIO|conformance:|train step|decode batch|bench gemm|bench attention|Tests:)' "$out"/lab.txt "$out"/bench.txt "$out"/jest.txt 2>/dev/null | tee "$out/summary.txt"
echo "status $status; logs in $out"
exit $status
