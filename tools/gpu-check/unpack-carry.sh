# Sourced by run.sh and cpu-check.sh: on a machine without Node, unpack what pack-node.sh put in .gpu-carry: Node
# into /tmp/lwz-node (PATH), jest/tsx/... into node_modules; with unpack_blas=1 (cpu-check.sh only: its GEMM
# baseline) and no system BLAS, OpenBLAS and its Fortran runtime into /tmp/lwz-blas (LWZ_BLAS, LD_LIBRARY_PATH).
# run.sh leaves LWZ_BLAS alone, so the jest conformance there checks our cpu kernels, not a BLAS (jest.env.ts).
# Nothing is installed system-wide; node_modules (ignored by git) is the only thing written into the checkout.
if ! command -v node >/dev/null && [[ -f .gpu-carry/node.tar.xz ]]; then
  mkdir -p /tmp/lwz-node && tar -C /tmp/lwz-node -xJf .gpu-carry/node.tar.xz && export PATH="/tmp/lwz-node/bin:$PATH"
fi
if [[ ! -d node_modules/jest && -f .gpu-carry/node_modules.tar.xz ]]; then
  tar -xJf .gpu-carry/node_modules.tar.xz
fi
if [[ ${unpack_blas:-0} == 1 && -z ${LWZ_BLAS:-} && -f .gpu-carry/blas.tar.xz ]] && ! ldconfig -p 2>/dev/null | grep -q 'libopenblas\|libmkl_rt\|libblis'; then
  mkdir -p /tmp/lwz-blas && tar -C /tmp/lwz-blas -xJf .gpu-carry/blas.tar.xz
  export LD_LIBRARY_PATH="/tmp/lwz-blas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" LWZ_BLAS=$(ls /tmp/lwz-blas/libopenblas*.so* | head -n 1)
fi
