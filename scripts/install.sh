#!/usr/bin/env bash
# Create .venv and install editlab with the right torch build for this machine.
# CPU-only machine: pin the CPU wheel (TORCH_CPU_SPEC) so pip does not pull GBs of CUDA packages.
# Machine with an NVIDIA driver: the default torch build from the package index (CUDA-enabled).
# Override with TORCH_SPEC="torch==X.Y.Z" to force a choice.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
TORCH_CPU_SPEC=${TORCH_CPU_SPEC:-torch==2.13.0}
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
fi
if ! python -c "import torch" >/dev/null 2>&1; then
    echo "install.sh: installing $spec"
    python -m pip install --quiet "$spec"
fi
python -m pip install --quiet -e ".[test,slurm]"
python -c "import torch, editlab; print('editlab', editlab.__version__, '| torch', torch.__version__, '| cuda', torch.cuda.is_available())"
