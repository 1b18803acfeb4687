"""How fast this host is right now, on one core, for the two kinds of work the default run does.

    python benchmarks/host_speed.py [--seconds 3]

The default run's wall time moves with the host: on the 2-core machines these numbers were measured on, the
same code took 10 min 45 s to 19 min from one hour to the next (docs/scaling.md). Two probes, one torch
thread each, a fixed workload timed for about `--seconds` each:

- `small_ops_us`: microseconds per step of a T-Patcher-like autograd loop (8 neurons on 256-d queries: their
  GELU on the edit rows, the top 100 of their pre-activations over a 4,000-row memory, backward, clipping,
  fused Adam), the per-call overhead and memory reads that bound a cached T-Patcher step;
- `matmul_gflops`: GFLOP/s of float32 1024 x 1024 matrix products, what bounds base-model training.

Run it just before or after a timed run (not during one: it takes a core) and quote it with the time. The
last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import torch


def small_ops_us(seconds: float) -> float:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4000, 256, generator=gen)
    w = torch.nn.Parameter(torch.randn(8, 256, generator=gen) * 0.05)
    b = torch.nn.Parameter(torch.zeros(8))
    opt = torch.optim.Adam([w, b], lr=1e-3, fused=True)

    def step() -> None:
        acts = torch.nn.functional.gelu(x[:8] @ w.T + b)
        memory = torch.topk(x @ w.T + b, 100, dim=0).values
        loss = -acts.mean() + torch.relu(memory).exp().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([w, b], 5.0, foreach=True)
        opt.step()

    return _per_call(step, seconds) * 1e6


def matmul_gflops(seconds: float) -> float:
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(1024, 1024, generator=gen), torch.randn(1024, 1024, generator=gen)
    return 2 * 1024 ** 3 / _per_call(lambda: a @ b, seconds) / 1e9


def _per_call(fn: Callable[[], object], seconds: float) -> float:
    for _ in range(20):   # warm-up: allocator, kernels
        fn()
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(10):
            fn()
        n += 10
    return elapsed / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per probe")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    result = {"small_ops_us": round(small_ops_us(args.seconds), 1),
              "matmul_gflops": round(matmul_gflops(args.seconds), 1), "threads": 1}
    print(f"small autograd step: {result['small_ops_us']:.1f} us   float32 matmul: "
          f"{result['matmul_gflops']:.1f} GFLOP/s   (one torch thread)")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
