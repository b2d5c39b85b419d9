#!/usr/bin/env bash
# Builds the CUDA backend with nvcc: liblwz_cuda.so (the C API, for the lab's Python/ctypes benchmark), and
# lwz_cuda.node (the Node-API addon) when NODE_INCLUDE names the folder holding node_api.h, and the lab's
# conformance binary when LAB=1. Plain bash + nvcc + g++ so it also runs on a GPU machine without Node.
# Incremental: an object is rebuilt when its source or any header here is newer. cudart is linked statically
# (the driver is found at run time), cuBLASLt is dlopened at run time: neither is needed to build or to load.
#   usage: build.sh OUT_DIR
#   env:   NVCC (nvcc), LWZ_CUDA_ARCHS (80: sm_80 SASS; "80,90" adds sm_90; PTX of the lowest is always
#          embedded), LWZ_CUDA_JOBS (CPU count), NODE_INCLUDE, LAB=1, LWZ_CUDA_WERROR=1 (warnings are errors)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "${1:?usage: build.sh OUT_DIR}" && cd "$1" && pwd)
nvcc=${NVCC:-nvcc}
archs=${LWZ_CUDA_ARCHS:-80}
jobs=${LWZ_CUDA_JOBS:-$(nproc 2>/dev/null || echo 2)}

gencode=()
lowest=
for a in ${archs//,/ }; do
  gencode+=(-gencode "arch=compute_$a,code=sm_$a")
  if [[ -z $lowest || $a -lt $lowest ]]; then lowest=$a; fi
done
gencode+=(-gencode "arch=compute_$lowest,code=compute_$lowest")
flags=(-std=c++17 -O3 -Xcompiler -fPIC -Xcompiler -Wall,-Wextra -I"$here" "${gencode[@]}")
# warnings are errors where the toolchain is the one we develop with (CI sets it); another nvcc on a GPU
# machine may warn differently, and a new warning must not cost the one GPU run
strict=
if [[ ${LWZ_CUDA_WERROR:-0} == 1 ]]; then
  flags+=(-Werror all-warnings)
  strict=-werror
fi

objdir="$out/obj-sm${archs//,/-}$strict"
mkdir -p "$objdir"
newest_header=$(ls -t "$here"/*.h "$here"/*.cuh | head -n 1)

compile() {  # compile SOURCE OBJECT
  local src=$1 obj=$2
  if [[ -f $obj && $obj -nt $src && $obj -nt $newest_header ]]; then return 0; fi
  echo "build-cuda: nvcc $(basename "$src")"
  "$nvcc" "${flags[@]}" -c "$src" -o "$obj.tmp" && mv "$obj.tmp" "$obj"
}

pids=()
objects=()
for src in "$here"/*.cu; do
  obj="$objdir/$(basename "${src%.cu}").o"
  objects+=("$obj")
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n; done
  compile "$src" "$obj" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
if ((status != 0)); then
  echo "build-cuda: compilation failed (the nvcc output is above)" >&2
  exit 1
fi

"$nvcc" -shared -o "$out/liblwz_cuda.so.tmp" "${objects[@]}" -cudart static -ldl
mv "$out/liblwz_cuda.so.tmp" "$out/liblwz_cuda.so"

if [[ -n ${NODE_INCLUDE:-} ]]; then
  g++ -std=c++17 -O2 -fPIC -Wall -Wextra ${strict:+-Werror} -I"$NODE_INCLUDE" -DNAPI_VERSION=8 -DNODE_GYP_MODULE_NAME=lwz_cuda \
    -c "$here/addon/module.cpp" -o "$objdir/module.o"
  "$nvcc" -shared -o "$out/lwz_cuda.node.tmp" "${objects[@]}" "$objdir/module.o" -cudart static -ldl
  mv "$out/lwz_cuda.node.tmp" "$out/lwz_cuda.node"
fi

if [[ ${LAB:-0} == 1 ]]; then
  labobjs=()
  for src in "$here"/lab/*.cu; do
    obj="$objdir/lab-$(basename "${src%.cu}").o"
    if [[ ! -f $obj || $src -nt $obj || $newest_header -nt $obj || $(ls -t "$here"/lab/*.h | head -n 1) -nt $obj ]]; then
      echo "build-cuda: nvcc lab/$(basename "$src")"
      "$nvcc" "${flags[@]}" -I"$here/lab" -c "$src" -o "$obj"
    fi
    labobjs+=("$obj")
  done
  "$nvcc" -o "$out/lwz-cuda-lab" "${labobjs[@]}" "${objects[@]}" -cudart static -ldl
fi
echo "build-cuda: built $(cd "$out" && ls liblwz_cuda.so lwz_cuda.node lwz-cuda-lab 2>/dev/null | tr '\n' ' ')in $out (archs $archs)"
