#!/usr/bin/env bash
# GPU check of the model core: builds core + reflab-cli against the CUDA LibTorch of the pip
# PyTorch (no Qt, no tests), runs `reflab-cli logits --device cuda` on the tiny models and
# compares them with Hugging Face transformers and the committed CPU reference
# (tests/tools/models/compare_transformers.py). transformers' logits are written to OUT as
# extra golden files. Never downloads anything; meant to finish well inside 8 minutes.
#
# On the CUDA machine, from the repository root:
#     scripts/gpu_check.sh [OUT_DIR]          (OUT_DIR defaults to $OUT, else build-gpu/out)
# Needs: nvidia driver, cmake, a C++17 compiler, python3 with torch (CUDA) and transformers.
# The C/C++ libraries RefLab uses (nlohmann-json, CLI11, sqlite3, PCRE2, utf8proc, pkg-config)
# are taken from the system when present, else from Debian packages carried in .gpu_deps/,
# which this script fetches on a Debian machine with network:
#     scripts/gpu_check.sh --fetch-deps       (apt-get download into .gpu_deps/, git-excluded)
# Environment: PYTHON (default python3), JOBS (default nproc), REFLAB_GPU_BUILD (build dir).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps_dir="$root/.gpu_deps"
DEBS="nlohmann-json3-dev libcli11-dev libsqlite3-dev libsqlite3-0 libpcre2-dev libpcre2-8-0 libutf8proc-dev libutf8proc2 pkgconf-bin libpkgconf3"

if [ "${1:-}" = "--fetch-deps" ]; then
    mkdir -p "$deps_dir"
    exclude="$(git -C "$root" rev-parse --git-common-dir)/info/exclude"
    mkdir -p "$(dirname "$exclude")"
    grep -qx '/.gpu_deps/' "$exclude" 2>/dev/null || echo '/.gpu_deps/' >>"$exclude"
    (cd "$deps_dir" && apt-get download $DEBS) || { echo "gpu_check: apt-get download failed" >&2; exit 1; }
    ls -la "$deps_dir"
    exit 0
fi

out="${1:-${OUT:-$root/build-gpu/out}}"
build="${REFLAB_GPU_BUILD:-$root/build-gpu}"
PY="${PYTHON:-python3}"
JOBS="${JOBS:-$(nproc)}"
mkdir -p "$out" "$build"
log="$out/gpu_check.log"
exec > >(tee "$log") 2>&1
start=$(date +%s)
step() { echo "=== [$(($(date +%s) - start)) s] $*"; }
fail() { echo "gpu_check: FAILED: $*"; exit 1; }

step "environment"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || fail "nvidia-smi: no GPU visible"
"$PY" - <<'PY' || fail "python3 has no CUDA torch"
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())
assert torch.cuda.is_available()
PY
TORCH_CMAKE="$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
ABI="$("$PY" -c 'import torch; print(int(torch.compiled_with_cxx11_abi()))')"
echo "torch cmake: $TORCH_CMAKE  _GLIBCXX_USE_CXX11_ABI=$ABI"
"$PY" -c 'import transformers; print("transformers", transformers.__version__)' || fail "transformers is not installed"
cmake --version | head -1 || fail "no cmake"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

step "C/C++ dependencies"
prefix_path="$TORCH_CMAKE"
have_header() { echo "#include <$1>" | ${CXX:-c++} -x c++ -E - >/dev/null 2>&1; }
missing=0
for h in nlohmann/json.hpp CLI/CLI.hpp sqlite3.h pcre2.h utf8proc.h; do
    if [ "$h" = pcre2.h ]; then
        echo "#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>" | ${CXX:-c++} -x c++ -E - >/dev/null 2>&1 || { echo "missing: $h"; missing=1; }
    else
        have_header "$h" || { echo "missing: $h"; missing=1; }
    fi
done
command -v pkg-config >/dev/null || { echo "missing: pkg-config"; missing=1; }
if [ "$missing" = 1 ]; then
    ls "$deps_dir"/*.deb >/dev/null 2>&1 || fail "libraries are missing and $deps_dir holds no .deb files (run scripts/gpu_check.sh --fetch-deps on a Debian machine with network, and carry .gpu_deps)"
    dp=/tmp/reflab-gpu-deps
    rm -rf "$dp" && mkdir -p "$dp"
    for f in "$deps_dir"/*.deb; do
        if command -v dpkg-deb >/dev/null; then
            dpkg-deb -x "$f" "$dp"
        else
            (cd "$dp" && ar p "$f" "$(ar t "$f" | grep '^data.tar')" | tar -x --use-compress-program="$(ar t "$f" | grep -q '\.xz$' && echo xz || echo zstd) -d")
        fi
    done
    # The .pc files say prefix=/usr: point them at the unpacked tree.
    find "$dp" -name '*.pc' -exec sed -i "s#^prefix=/usr#prefix=$dp/usr#" {} +
    export PKG_CONFIG_PATH="$dp/usr/lib/x86_64-linux-gnu/pkgconfig:$dp/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    export LD_LIBRARY_PATH="$dp/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    if ! command -v pkg-config >/dev/null; then
        mkdir -p "$dp/bin" && ln -sf "$dp/usr/bin/pkgconf" "$dp/bin/pkg-config"
        export PATH="$dp/bin:$PATH"
    fi
    prefix_path="$prefix_path;$dp/usr"
    echo "using the Debian packages of $deps_dir (unpacked in $dp)"
fi

# The CUDA libraries of the pip wheels (site-packages/nvidia/*/lib): the linker must see them
# to check libtorch_cuda.so's needs, and the loader to run the CLI.
nv_dirs="$("$PY" - <<'PY'
import glob, os, torch
site = os.path.dirname(os.path.dirname(torch.__file__))
libs = glob.glob(os.path.join(site, "nvidia", "**", "lib*.so*"), recursive=True)
print(":".join([os.path.join(os.path.dirname(torch.__file__), "lib")] + sorted({os.path.dirname(p) for p in libs})))
PY
)"
export LD_LIBRARY_PATH="$nv_dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

step "configure (core + CLI, no Qt, no tests)"
cuda_args=()
if command -v nvcc >/dev/null; then
    cuda_args+=(-DCUDAToolkit_ROOT="$(dirname "$(dirname "$(command -v nvcc)")")")
elif [ -x /usr/local/cuda/bin/nvcc ]; then
    cuda_args+=(-DCUDAToolkit_ROOT=/usr/local/cuda)
fi
timeout 180 cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DREFLAB_BUILD_GUI=OFF -DREFLAB_BUILD_TESTS=OFF \
    -DCMAKE_PREFIX_PATH="$prefix_path" -DCMAKE_CXX_FLAGS="-D_GLIBCXX_USE_CXX11_ABI=$ABI" \
    -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,$nv_dirs" \
    "${cuda_args[@]}" || fail "cmake configure"

step "build reflab-cli ($JOBS jobs)"
timeout 330 cmake --build "$build" --target reflab-cli --parallel "$JOBS" 2>&1 | tail -40
[ "${PIPESTATUS[0]}" = 0 ] || fail "build"
cli="$build/bin/reflab-cli"
"$cli" --version || fail "reflab-cli does not start"

step "logits on CUDA vs transformers vs the CPU reference"
"$PY" "$root/tests/tools/models/compare_transformers.py" --cli "$cli" --out "$out" --device cuda
status=$?

step "logits on this host's CPU (fused CPU ops, bf16 and f32) vs transformers"
mkdir -p "$out/cpu"
"$PY" "$root/tests/tools/models/compare_transformers.py" --cli "$cli" --out "$out/cpu" --device cpu
cpu_status=$?
[ $cpu_status -ne 0 ] && status=$cpu_status

step "bench on CUDA (random Qwen2.5-0.5B-shaped model, informational)"
timeout 120 "$cli" bench --what generate --device cuda --dtype bfloat16 --json ||
    echo "(bench did not finish; not a failure)"

step "done: status $status; files in $out"
ls -la "$out"
exit $status
