#!/usr/bin/env bash
# The GPU check of issue 15, as one command on a lent GPU machine (device tool, `carry: [".whl"]`, after
# scripts/device_wheels.sh here): seconds per T-Patcher edit of the BERT-base- and BART-base-sized models
# on the GPU, reference path, cached path with stacked dropout draws and one forward per draw
# (benchmarks/edit_speed.py --device cuda). Writes $OUT/edit_speed_gpu.json and $OUT/device_check.log.
#   DEVICE=cpu PY=.venv/bin/python WHEELS=none OUT=/tmp/x bash scripts/device_check.sh   # the same flow on a CPU
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}
OUT=${OUT:?set OUT to the folder the results go to}
mkdir -p "$OUT"
WHEELS=${WHEELS:-.whl}   # WHEELS=none: use the interpreter's own packages
if [ "$WHEELS" != none ] && compgen -G "$WHEELS/*.whl" >/dev/null; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
{
    "$PY" -c "import torch, transformers; print('torch', torch.__version__, '| transformers', transformers.__version__, '| cuda', torch.cuda.is_available(), '|', torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU')"
    "$PY" benchmarks/edit_speed.py --device "$DEVICE" --tasks ${TASKS:-fever_base zsre_base} --threads "${THREADS:-4}" \
        --base-edits "${BASE_EDITS:-3}" --out "$OUT/edit_speed_gpu.json"
} 2>&1 | tee "$OUT/device_check.log"
