"""benchmarks/host_speed.py: both probes run and the last line is the JSON the README quotes."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_host_speed_prints_both_probes_as_json():
    out = subprocess.run([sys.executable, str(REPO / "benchmarks/host_speed.py"), "--seconds", "0.05"],
                         capture_output=True, text=True, check=True, timeout=120)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["threads"] == 1
    assert 0 < result["small_ops_us"] < 1e5 and 0 < result["matmul_gflops"] < 1e5
    assert "GFLOP/s" in out.stdout.splitlines()[0]
