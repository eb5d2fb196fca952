#!/usr/bin/env bash
# The GPU check (benchmarks/gpu_check.py) on a CUDA machine, in a venv of its own, with a timeout.
#
#   1. here, where pip reaches PyPI (once):      bash benchmarks/gpu_check.sh --prepare
#      downloads into .whl/ (git-ignored through .git/info/exclude) the CPython 3.12 manylinux wheels of the
#      pure dependencies a GPU image with CUDA PyTorch usually lacks (gymnasium, MuJoCo, kornia, mlxtend, trimesh).
#   2. on the GPU machine (the device tool: carry [".whl"], timeout_s 600):
#                                                bash benchmarks/gpu_check.sh [--timeout SECONDS] [gpu_check.py args]
#      makes /tmp/paperlab-gpu-venv with the system's site packages visible, so the image's CUDA build of torch
#      is used (torch==2.13.0+cpu, the project's pin, is never installed there); where no CUDA torch exists
#      and the network is reachable, it installs one from PyTorch's CUDA index into that venv instead. Then it
#      installs the carried wheels (--no-index), puts src/ on PYTHONPATH and runs
#      `python benchmarks/gpu_check.py --device cuda` under `timeout`, writing benchmarks/results/gpu_check.json
#      (and a copy plus the log under $OUT when the device tool sets it). Exit status: gpu_check.py's, or 124
#      on timeout (the JSON then holds the papers that finished).
set -uo pipefail
cd "$(dirname "$0")/.."

WHEELS=.whl
# pinned to the versions this project's CPU venv runs; --no-deps, so every needed distribution is named
PACKAGES=(gymnasium==1.4.0 farama-notifications==0.0.6 mujoco==4.0.1 mujoco-core==4.0.1 glfw==2.11.0
          pyopengl==3.1.10 kornia==0.9.0 kornia-rs==0.2.0 mlxtend==0.25.0 trimesh==5.2.0)
CUDA_INDEX=${PAPERLAB_CUDA_INDEX:-https://download.pytorch.org/whl/cu128}

if [[ "${1:-}" == "--prepare" ]]; then
    grep -qxF "/$WHEELS/" .git/info/exclude 2>/dev/null || { mkdir -p .git/info; echo "/$WHEELS/" >> .git/info/exclude; }
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d "$WHEELS" "${PACKAGES[@]}" \
        || exit $?
    du -sh "$WHEELS"
    echo "now, on the GPU machine: bash benchmarks/gpu_check.sh   (carry .whl)"
    exit 0
fi

TIMEOUT=540
if [[ "${1:-}" == "--timeout" ]]; then TIMEOUT=$2; shift 2; fi

BASE_PYTHON=${PAPERLAB_GPU_PYTHON:-python3}
VENV=/tmp/paperlab-gpu-venv
"$BASE_PYTHON" -m venv --system-site-packages "$VENV" || exit $?
PY="$VENV/bin/python"
if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    echo "no CUDA build of torch that sees a GPU in $BASE_PYTHON; installing one from $CUDA_INDEX into $VENV"
    "$PY" -m pip install -q torch --index-url "$CUDA_INDEX" || { echo "gpu_check.sh: cannot install a CUDA torch"; exit 3; }
fi
if compgen -G "$WHEELS/*.whl" > /dev/null; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile "$WHEELS"/*.whl || exit $?
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 PAPERLAB_NO_PROGRESS=1 MUJOCO_GL=egl
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))"

JSON=benchmarks/results/gpu_check.json
LOG=/tmp/gpu_check.log
timeout "$TIMEOUT" "$PY" benchmarks/gpu_check.py --device cuda --json "$JSON" "$@" 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
if [[ -n "${OUT:-}" && -d "${OUT:-}" ]]; then
    cp "$JSON" "$OUT/" 2>/dev/null
    cp "$LOG" "$OUT/"
fi
[[ $status == 124 ]] && echo "gpu_check.sh: stopped after ${TIMEOUT}s; $JSON holds the papers that finished"
exit "$status"
