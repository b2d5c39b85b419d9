#!/usr/bin/env bash
# A session's whole GPU lease in one device call: the GPU checks (run.sh: lab conformance and timings, the jest
# conformance on the real addon, then the PyTorch comparisons) on CPUs 2.. and, side by side, pinned to CPUs 0,1, the
# cpu kernels' jest suites on this machine's best instruction set (the AVX-512 bodies where it has them) followed by
# issue #15's measurements (cpu-check.sh). Each lane is stopped before --seconds, so the logs always come back: the
# device tool returns at most 8 files, so they travel as one archive, $OUT/logs.tgz, beside $OUT/summary.txt.
# Prepare here: bash tools/gpu-check/pack-node.sh, and the prebuilt backend (same nvcc as the GPU machine):
#   LWZ_CUDA_ARCHS=90 LAB=1 NODE_INCLUDE=$(dirname $(dirname $(readlink -f $(which node))))/include/node \
#     bash libs/kernels/cuda/build.sh /tmp/pre90 && tar -C /tmp/pre90 -cJf .gpu-carry/cuda.tar.xz liblwz_cuda.so lwz-cuda-lab lwz_cuda.node
# then: run(command="bash tools/gpu-check/device.sh --seconds 420", timeout_s=450,
#           carry=[".gpu-carry", "libs/kernels/build/Release/lwz_cpu.node"])
# Without .gpu-carry/cuda.tar.xz run.sh builds the backend there (minutes of device time).
# --cpu2-steps starts a second 2-CPU lane of cpu-check.sh steps on CPUs 2,3 (the GPU lane then takes 4..), e.g. the
# memory-bound runs beside the GEMM runs; --repeats N repeats cpu-check's gemm, membound and attention runs.
#   usage: device.sh [--seconds N] [--gpu-steps LIST] [--cpu-steps LIST] [--cpu2-steps LIST] [--repeats N]
#                    [--bench-quick 0|1]
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds=420
gpu_steps=lab,timings,jest
cpu_steps=jest,gemm,membound,model
cpu2_steps=
repeats=1
bench_quick=1
while (($#)); do
  case $1 in
  --seconds) seconds=${2:?}; shift ;;
  --gpu-steps) gpu_steps=${2?}; shift ;;
  --cpu-steps) cpu_steps=${2?}; shift ;;
  --cpu2-steps) cpu2_steps=${2?}; shift ;;
  --repeats) repeats=${2:?}; shift ;;
  --bench-quick) bench_quick=${2:?}; shift ;;
  *) echo "usage: device.sh [--seconds N] [--gpu-steps lab,timings,jest,bench] [--cpu-steps jest,gemm,membound,model]" \
    "[--cpu2-steps LIST] [--repeats N] [--bench-quick 0|1]" >&2; exit 2 ;;
  esac
  shift
done
want() { [[ ,$1, == *,$2,* ]]; }
without() {  # without LIST NAME: the comma list without NAME
  local keep=() items=() x
  IFS=, read -r -a items <<<"$1"
  for x in "${items[@]}"; do [[ $x == "$2" ]] || keep+=("$x"); done
  (IFS=,; echo "${keep[*]}")
}
out=${OUT:-/tmp/device-check}
logs=$(mktemp -d /tmp/device-logs.XXXXXX)  # packed into $OUT/logs.tgz at the end, then removed
mkdir -p "$logs/gpu" "$logs/bench" "$logs/cpu" "$logs/cpu2" "$out"
started=$(date +%s)
left() {  # seconds until the lanes must stop (at least 1)
  local l=$((seconds - 10 - ($(date +%s) - started)))
  echo $((l < 1 ? 1 : l))
}
source tools/gpu-check/unpack-carry.sh
export LWZ_CPU_CHECK_CORES=1  # cpu-check.sh: cores of crashed runs into /tmp, backtraces into the logs
n=$(nproc)
first=2
if [[ -n $cpu2_steps ]]; then first=4; fi
gpu_cpus=$first-$((n - 1))
if ((n < first + 2)); then gpu_cpus=0-$((n - 1)); fi
prebuilt=()
if [[ -f .gpu-carry/cuda.tar.xz ]]; then prebuilt=(--prebuilt .gpu-carry/cuda.tar.xz); fi

gpu_lane() {
  local lab_steps
  lab_steps=$(without "$gpu_steps" bench)
  if [[ -n $lab_steps ]]; then
    OUT=$logs/gpu timeout "$(left)" taskset -c "$gpu_cpus" bash tools/gpu-check/run.sh "${prebuilt[@]}" --steps "$lab_steps"
  fi
  if want "$gpu_steps" bench; then
    local q=()
    if [[ $bench_quick == 1 ]]; then q=(--quick); fi
    OUT=$logs/bench timeout "$(left)" taskset -c "$gpu_cpus" bash tools/gpu-check/run.sh "${prebuilt[@]}" "${q[@]}" --steps bench
  fi
}

cpu_lane() {
  if want "$cpu_steps" jest; then
    echo "== cpu kernels' jest suites, default ISA ($(grep -m1 -o -w avx512f /proc/cpuinfo || echo 'no avx512f'))"
    # REQUIRE_NATIVE: a cpu addon that fails to load here fails the run instead of skipping
    REQUIRE_NATIVE=1 LWZ_BLAS=own timeout "$(left)" taskset -c 0,1 node --experimental-vm-modules --no-warnings=ExperimentalWarning \
      node_modules/jest/bin/jest.js --config libs/kernels/jest.config.js libs/kernels/src/cpu/attention libs/kernels/src/cpu/matmul \
      libs/kernels/src/cpu/packed libs/kernels/src/cpu/rowpass libs/kernels/src/conformance 2>&1 | tail -n 40
  fi
  local rest
  rest=$(without "$cpu_steps" jest)
  if [[ -n $rest ]]; then
    OUT=$logs/cpu LWZ_CPU_CHECK_CPUS=0,1 timeout "$(left)" bash tools/gpu-check/cpu-check.sh --repeats "$repeats" --steps "$rest"
  fi
}

cpu2_lane() {
  if [[ -n $cpu2_steps ]]; then
    OUT=$logs/cpu2 LWZ_CPU_CHECK_CPUS=2,3 timeout "$(left)" bash tools/gpu-check/cpu-check.sh --repeats "$repeats" --steps "$cpu2_steps"
  fi
}

gpu_lane >"$logs/gpu-lane.txt" 2>&1 &
gpu_pid=$!
cpu_lane >"$logs/cpu-lane.txt" 2>&1 &
cpu_pid=$!
cpu2_lane >"$logs/cpu2-lane.txt" 2>&1 &
cpu2_pid=$!
wait "$gpu_pid"
gpu_rc=$?
wait "$cpu_pid"
cpu_rc=$?
wait "$cpu2_pid"
cpu_rc=$((cpu_rc || $?))

{
  echo "device.sh: gpu lane exit $gpu_rc, cpu lane exit $cpu_rc, $(($(date +%s) - started)) s of $seconds"
  cat "$logs/gpu/machine.txt" 2>/dev/null
  grep -h -E 'prebuilt|BUILD FAILED' "$logs/gpu/build.txt" 2>/dev/null
  echo "-- gpu summary"
  cat "$logs/gpu/summary.txt" "$logs/bench/summary.txt" 2>/dev/null
  grep -h -E '^(FAIL|LAB FAILED)' "$logs/gpu/lab.txt" 2>/dev/null | head -n 40
  echo "-- cpu lane"
  grep -E '^(==|Tests:|Test Suites:)|✕' "$logs/cpu-lane.txt" | head -n 40
  cat "$logs/cpu/cpu.txt" 2>/dev/null
  if [[ -n $cpu2_steps ]]; then echo "-- cpu lane 2 (CPUs 2,3)"; cat "$logs/cpu2/cpu.txt" 2>/dev/null; fi
} >"$logs/summary.txt" 2>&1
tar -C "$logs" -czf "$out/logs.tgz" .
cp "$logs/summary.txt" "$out/summary.txt"
cat "$logs/summary.txt"
rm -rf "$logs"
exit $((gpu_rc || cpu_rc))
