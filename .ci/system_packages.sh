#!/usr/bin/env bash
# System packages for the test suite (called by .ci/run as root on a fresh Debian machine):
# tests/test_slurm.py starts its own single-node SLURM and needs Debian's slurm-wlm and munge.
set -euo pipefail
if command -v sbatch >/dev/null 2>&1 && command -v slurmctld >/dev/null 2>&1 && command -v munged >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq slurm-wlm munge
