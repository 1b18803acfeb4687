#!/usr/bin/env bash
# Static checks run by `make test` before the suite: ruff (Python), snakefmt (rule files), snakemake --lint.
set -euo pipefail
cd "$(dirname "$0")/.."
ruff check .
snakefmt --check Snakefile workflow/rules
out=$(snakemake --lint 2>&1) || { echo "$out"; exit 1; }
# snakemake --lint exits 0 even when it prints findings; only its all-clear line counts as clean.
if ! grep -q "Congratulations, your workflow is in a good condition" <<<"$out"; then
    echo "$out"
    echo "lint.sh: snakemake --lint reported findings" >&2
    exit 1
fi
echo "lint.sh: ruff, snakefmt and snakemake --lint clean"
