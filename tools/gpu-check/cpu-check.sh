#!/usr/bin/env bash
# Issue #15's CPU measurements on another x86 machine (e.g. the GPU machine's Intel Xeon), pinned to 2 cores as
# the development machines are: GEMM/GEMV vs OpenBLAS (gemm-vs-blas.ts, default ISA and LWZ_ISA=avx2), the
# memory-bound kernels vs the bandwidth probe, and a train step vs PyTorch CPU (model-vs-torch). Runs with the
# Node, packages and OpenBLAS that tools/gpu-check/pack-node.sh put in .gpu-carry when the machine has none,
# and the cpu addon carried or built (libs/kernels/build/Release/lwz_cpu.node). Logs go to $OUT or /tmp/cpu-check.
# The AVX2 GEMM run pins OpenBLAS to its Haswell (AVX2) kernels too (OPENBLAS_CORETYPE), so both sides use one ISA.
# Optional steps: attention (issue #10: the batch-1 decode attention against the read probe, long-context suite) and
# variants (the memory-bound suite again under each of LWZ_CPU_CHECK_VARIANTS, ';'-separated sets of VAR=VALUE words;
# default LWZ_ISA=avx2;LWZ_HUGEPAGES=0) and rowpass (rowpass-ab.ts over the addon builds in .gpu-carry/ab). A run that dies of a signal
# leaves a core in /tmp with LWZ_CPU_CHECK_CORES=1 (device.sh sets it: root on the GPU machine, whose kernel
# settings go back with the machine), and cuda-gdb, where installed, prints its backtraces into that step's log.
#   usage: bash tools/gpu-check/cpu-check.sh [--smoke] [--repeats N] [--steps gemm,membound,model,attention,variants,rowpass]
#   env: LWZ_CPU_CHECK_CPUS (default 0,1)
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/cpu-check}
mkdir -p "$out"
smoke=
steps=gemm,membound,model
repeats=1
while (($#)); do
  case $1 in
  --smoke) smoke=--smoke ;;
  --steps) steps=${2:?--steps needs a list}; shift ;;
  --repeats) repeats=${2:?--repeats needs a count}; shift ;;
  *) echo "usage: cpu-check.sh [--smoke] [--repeats N] [--steps gemm,membound,model,attention,variants,rowpass]" >&2; exit 2 ;;
  esac
  shift
done
want() { [[ ,$steps, == *,$1,* ]]; }
unpack_blas=1
source tools/gpu-check/unpack-carry.sh
cpus=${LWZ_CPU_CHECK_CPUS:-0,1}
pin=(taskset -c "$cpus")
python=$(command -v python3)
export OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 CUDA_VISIBLE_DEVICES= LWZ_TORCH_PYTHON=$python
status=0
started=$(date +%s)
step() { echo "== $* ($(($(date +%s) - started)) s)"; }
cores=
if [[ ${LWZ_CPU_CHECK_CORES:-0} == 1 && $(id -u) == 0 ]] && echo /tmp/core.%p >/proc/sys/kernel/core_pattern 2>/dev/null; then
  ulimit -c unlimited
  cores=1
fi
run() {  # run LOG SECONDS CMD...: the command pinned, output appended to LOG
  local log=$1 secs=$2 rc
  shift 2
  echo "\$ $*" >>"$out/$log"
  timeout "$secs" "${pin[@]}" "$@" >>"$out/$log" 2>&1
  rc=$?
  if ((rc == 0)); then return 0; fi
  echo "exit $rc from: $*" | tee -a "$out/$log"
  status=1
  if [[ -n $cores ]] && command -v cuda-gdb >/dev/null; then
    for core in /tmp/core.*; do
      [[ -f $core ]] || continue
      echo "backtraces of $core:" >>"$out/$log"
      timeout 60 cuda-gdb -batch -ex 'info sharedlibrary' -ex 'thread apply all bt 25' "$(command -v node)" "$core" >>"$out/$log" 2>&1
      rm -f "$core"
    done
  fi
}

{
  step "machine"
  lscpu | grep -E 'Model name|^CPU\(s\)|Thread|Socket|L1d|L2|L3|NUMA node\(s\)'
  grep -m1 -o -w -E 'avx512f|avx512_bf16|amx_tile|avx512_vnni' /proc/cpuinfo | sort -u | tr '\n' ' '
  echo
  echo "pinned to CPUs $cpus; node $(node --version); $($python -c 'import torch; print("torch", torch.__version__)' 2>&1)"
  echo "OpenBLAS: ${LWZ_BLAS:-(system search)}"
  uptime
} 2>&1 | tee "$out/cpu.txt"

tsx=(node --import tsx)
membound=(node apps/bench-runner/bin/lwz-bench.js run --suite memory-bound --baseline bandwidth $smoke)
rounds=9
if [[ $smoke == --smoke ]]; then rounds=1; fi
if want gemm; then
  for ((i = 1; i <= repeats; i++)); do
    step "GEMM / GEMV vs OpenBLAS, default ISA (run $i of $repeats)" | tee -a "$out/cpu.txt"
    run gemm.txt 90 "${tsx[@]}" benchmarks/kernels/gemm-vs-blas.ts "$rounds"
    step "GEMM / GEMV vs OpenBLAS, LWZ_ISA=avx2, OPENBLAS_CORETYPE=Haswell (run $i of $repeats)" | tee -a "$out/cpu.txt"
    LWZ_ISA=avx2 OPENBLAS_CORETYPE=Haswell run gemm.txt 90 "${tsx[@]}" benchmarks/kernels/gemm-vs-blas.ts "$rounds"
  done
fi
if want membound; then
  for ((i = 1; i <= repeats; i++)); do
    step "memory-bound kernels vs the bandwidth probe (run $i of $repeats)" | tee -a "$out/cpu.txt"
    LWZ_BLAS=own run membound.txt 100 "${membound[@]}"
  done
fi
if want attention; then
  for ((i = 1; i <= repeats; i++)); do
    step "batch-1 decode attention vs the read probe (run $i of $repeats)" | tee -a "$out/cpu.txt"
    LWZ_BLAS=own run attention.txt 60 node apps/bench-runner/bin/lwz-bench.js run --suite long-context --filter attention --baseline bandwidth
  done
fi
if want variants; then
  IFS=';' read -r -a variants <<<"${LWZ_CPU_CHECK_VARIANTS:-LWZ_ISA=avx2;LWZ_HUGEPAGES=0}"
  for ((i = 1; i <= repeats; i++)); do
    for v in "${variants[@]}"; do
      step "memory-bound kernels, $v (run $i of $repeats)" | tee -a "$out/cpu.txt"
      read -r -a assign <<<"$v"
      LWZ_BLAS=own run variants.txt 100 env "${assign[@]}" "${membound[@]}"
    done
  done
fi
if want rowpass; then
  # A/B of addon builds carried in .gpu-carry/ab/*.node (copies of lwz_cpu.node; LWZ_CPU_CHECK_BUILDS names another
  # folder), the RMSNorm backward with plain and streamed dx, both ISAs (rowpass-ab.ts)
  ab=${LWZ_CPU_CHECK_BUILDS:-.gpu-carry/ab}
  mapfile -t builds < <(ls "$ab"/*.node 2>/dev/null)
  if ((${#builds[@]} < 2)); then
    echo "rowpass: needs two or more addon builds in $ab/*.node (copies of lwz_cpu.node)" | tee -a "$out/cpu.txt"
    status=1
  fi
  for ((i = 1; i <= repeats && ${#builds[@]} >= 2; i++)); do
    step "RMSNorm backward A/B of ${#builds[@]} builds, default ISA and LWZ_ISA=avx2 (run $i of $repeats)" | tee -a "$out/cpu.txt"
    run rowpass.txt 90 "${tsx[@]}" benchmarks/kernels/rowpass-ab.ts "${builds[@]}"
    LWZ_ISA=avx2 run rowpass.txt 90 "${tsx[@]}" benchmarks/kernels/rowpass-ab.ts "${builds[@]}"
  done
fi
if want model; then
  step "train step vs PyTorch CPU" | tee -a "$out/cpu.txt"
  LWZ_BLAS=own run model.txt 180 node apps/bench-runner/bin/lwz-bench.js run --suite model-vs-torch $smoke
fi
step "done, status $status" | tee -a "$out/cpu.txt"
exit $status
