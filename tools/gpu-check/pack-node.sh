#!/usr/bin/env bash
# Packs Node.js and the few packages jest needs into .gpu-carry/ (.gitignore), so the GPU check can run the
# jest conformance suite on the cuda addon on a GPU machine that has no Node and no registry. Run it here, after
# `npm ci`; then name `.gpu-carry` in the device call's carry list: run.sh unpacks it when node is missing.
# Carries node_modules entries by dependency closure (jest, @swc/jest, @swc/core and its linux-x64 binary, zod for
# @lwz/core, tsx, commander and tinybench for cpu-check.sh, protobufjs and @huggingface/jinja that the benchmarks reach
# through @lwz/export and @lwz/tokenizer, the workspace links @lwz/*), not the whole 1.5 GB tree,
# and OpenBLAS with its Fortran runtime when installed here: about 45 MB compressed, under the 64 MiB carry limit.
#   usage: bash tools/gpu-check/pack-node.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.gpu-carry
mkdir -p "$out"
node=$(readlink -f "$(command -v node)")
prefix=$(dirname "$(dirname "$node")")
if [[ ! -f $prefix/include/node/node_api.h ]]; then
  echo "pack-node: $prefix/include/node/node_api.h not found (the addon build needs Node's headers)" >&2
  exit 1
fi

# node_modules paths in the dependency closure of the roots, outermost only (a nested node_modules travels
# inside its parent)
python3 - jest @swc/jest @swc/core @swc/core-linux-x64-gnu zod tsx commander tinybench protobufjs @huggingface/jinja >"$out/modules.txt" <<'EOF'
import json, os, sys
root = os.getcwd()
seen = set()
def resolve(name, frm):
    d = frm
    while d.startswith(root):
        p = os.path.join(d, "node_modules", name)
        if os.path.isdir(p):
            return p
        if d == root:
            return None
        d = os.path.dirname(d)
    return None
stack = [(n, root) for n in sys.argv[1:]]
while stack:
    name, frm = stack.pop()
    p = resolve(name, frm)
    if not p or p in seen:
        continue
    seen.add(p)
    try:
        pj = json.load(open(os.path.join(p, "package.json")))
    except (OSError, ValueError):
        continue
    for key in ("dependencies", "optionalDependencies", "peerDependencies"):
        stack += [(dep, p) for dep in pj.get(key) or {}]
rel = sorted(os.path.relpath(p, root) for p in seen)
keep = set(rel)
for r in rel:
    parts = r.split("/")
    if not any("/".join(parts[:i]) in keep for i in range(1, len(parts))):
        print(r)
print("node_modules/@lwz")
EOF
tar -cf - -T "$out/modules.txt" | xz -T0 -6 >"$out/node_modules.tar.xz.tmp"
mv "$out/node_modules.tar.xz.tmp" "$out/node_modules.tar.xz"
tar -C "$prefix" -cf - "bin/node" "include/node" | xz -T0 -6 >"$out/node.tar.xz.tmp"
mv "$out/node.tar.xz.tmp" "$out/node.tar.xz"
# OpenBLAS with its Fortran runtime, for cpu-check.sh's GEMM baseline on a machine that has no BLAS
blas=$(python3 -c "import ctypes.util; print(ctypes.util.find_library('openblas') or '')")
if [[ -n $blas ]]; then
  lib=$(readlink -f "$(ldconfig -p | awk -v n="$blas" '$1 == n {print $NF; exit}')")
  deps=$(ldd "$lib" | awk '/libgfortran|libquadmath/ {print $3}')
  tar -chf - -C / $(for f in $lib $deps; do echo "${f#/}"; done) --transform 's|.*/||' | xz -T0 -6 >"$out/blas.tar.xz.tmp"
  mv "$out/blas.tar.xz.tmp" "$out/blas.tar.xz"
fi
echo "pack-node: $(wc -l <"$out/modules.txt") node_modules entries; $(du -ch "$out"/*.tar.xz | tail -n 1 | cut -f1) in $out ($(node --version))"
