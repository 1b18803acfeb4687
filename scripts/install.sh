#!/usr/bin/env bash
# Create .venv and install editlab with the right torch build for this machine.
# CPU-only machine: the CPU wheel of TORCH_CPU_SPEC, so pip does not pull GBs of CUDA packages: from a source
# pip is configured with that has it (a local wheel directory or mirror), else from PyTorch's CPU index
# (TORCH_CPU_INDEX); plain PyPI's Linux wheel of the same version is the CUDA one.
# Machine with an NVIDIA driver: the default torch build from the package index (CUDA-enabled).
# Override with TORCH_SPEC="torch==X.Y.Z" to force a choice.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
TORCH_CPU_SPEC=${TORCH_CPU_SPEC:-torch==2.13.0}
TORCH_CPU_INDEX=${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
. "$VENV/bin/activate"
python -m pip install --quiet --upgrade pip
if [ -n "${TORCH_SPEC:-}" ]; then
    spec="$TORCH_SPEC"
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    spec="torch"
else
    spec="$TORCH_CPU_SPEC"
    cpu_build=1
fi
if ! python -c "import torch" >/dev/null 2>&1; then
    echo "install.sh: installing $spec"
    if [ "${cpu_build:-0}" = 1 ]; then
        python -m pip install --quiet "$spec+cpu" 2>/dev/null \
            || python -m pip install --quiet "$spec" --index-url "$TORCH_CPU_INDEX" --extra-index-url https://pypi.org/simple
    else
        python -m pip install --quiet "$spec"
    fi
fi
python -m pip install --quiet -e ".[test,slurm]"
python -c "import torch, editlab; print('editlab', editlab.__version__, '| torch', torch.__version__, '| cuda', torch.cuda.is_available())"
