#!/usr/bin/env bash
# Run here (with internet to the package index), before a GPU check: the wheels that
# scripts/device_check.sh installs on the GPU machine, which has torch and transformers but cannot fetch.
# The GPU image lacks what editlab.config imports (jsonschema and its needs); .whl/ is git-ignored and
# travels with the device tool's `carry: [".whl"]`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYVER=${PYVER:-3.12}   # the GPU image's python3
rm -rf .whl && mkdir -p .whl
for spec in "jsonschema==4.25.1" "jsonschema-specifications==2025.9.1" "referencing==0.36.2" "rpds-py==0.27.1"; do
    python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version "$PYVER" --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        -d .whl "$spec"
done
ls -l .whl
