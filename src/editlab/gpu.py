"""Pin a local GPU job to one device: claim a free slot with an exclusive file lock.

Snakemake's `--resources gpu=N` only counts tokens; it never says *which* GPU a job gets, so two
concurrent jobs would both land on device 0. Each GPU job therefore claims a slot here (one
`flock`ed file per device, shared by every workflow run on the machine) and sets
`CUDA_VISIBLE_DEVICES` to that device before torch initialises CUDA. The kernel drops the lock when
the process ends, so a crashed job never leaves a slot held.

Rules of the game:
- under SLURM (`SLURM_JOB_ID` set) nothing is done: SLURM already pins the job's GPUs;
- an inherited `CUDA_VISIBLE_DEVICES` is respected: slots are its entries, not the physical ids;
- no GPU present, or the job got 0 gpu tokens (`--resources gpu=0` scales `gpu: 1` down to 0):
  `CUDA_VISIBLE_DEVICES` is set to "" so the job runs on CPU and can never touch a GPU it did not claim.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import tempfile
import time
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

from editlab.errors import EditlabError

log = logging.getLogger("editlab.gpu")

# Override of the device list (count or comma list), e.g. to test slot claiming without a GPU.
SLOTS_ENV = "EDITLAB_GPU_SLOTS"
# Where the per-device lock files live; must be shared by all jobs on the machine.
LOCK_DIR_ENV = "EDITLAB_GPU_LOCK_DIR"
NVIDIA_PROC_DIR = Path("/proc/driver/nvidia/gpus")


@dataclass(frozen=True)
class GpuClaim:
    """What a job got: the device ids it may use ([] = CPU) and why."""

    devices: tuple[str, ...]
    reason: str

    @property
    def uses_gpu(self) -> bool:
        return bool(self.devices)


def default_lock_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"editlab-gpu-locks-{os.getuid()}"


def available_devices(env: Mapping[str, str]) -> list[str]:
    """Device ids this process may hand out, without initialising CUDA (that would freeze the env)."""
    if SLOTS_ENV in env:
        raw = env[SLOTS_ENV].strip()
        if raw.isdigit():
            return [str(i) for i in range(int(raw))]
        return [d.strip() for d in raw.split(",") if d.strip()]
    if "CUDA_VISIBLE_DEVICES" in env:
        # Respect the parent's choice; "" or "-1" means no GPU at all.
        return [d.strip() for d in env["CUDA_VISIBLE_DEVICES"].split(",") if d.strip() and d.strip() != "-1"]
    if NVIDIA_PROC_DIR.is_dir():
        return [str(i) for i in range(len(list(NVIDIA_PROC_DIR.iterdir())))]
    return []


def _try_lock(path: Path) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return None
        raise
    return fd


def _lock_name(device: str) -> str:
    # Device ids may be UUIDs ("GPU-1a2b...") or MIG ids; keep the file name safe.
    return "slot-" + "".join(c if c.isalnum() or c in "-_." else "_" for c in device) + ".lock"


@contextlib.contextmanager
def claim_gpus(
    n_gpus: int,
    env: MutableMapping[str, str] | None = None,
    lock_dir: str | os.PathLike[str] | None = None,
    timeout_s: float = 600.0,
    poll_s: float = 0.2,
) -> Iterator[GpuClaim]:
    """Hold `n_gpus` free device slots for the duration of the block and export them in `env`.

    `env` defaults to `os.environ`; it must be set before torch touches CUDA. Waits up to
    `timeout_s` for slots that another process (e.g. another workflow) holds, then fails clearly.
    """
    env = os.environ if env is None else env
    if "SLURM_JOB_ID" in env:
        given = tuple(d for d in env.get("CUDA_VISIBLE_DEVICES", "").split(",") if d)
        log.info("under SLURM: using the devices it pinned (%s)", ",".join(given) or "none")
        yield GpuClaim(given, "slurm")
        return
    devices = available_devices(env)
    if n_gpus <= 0 or not devices:
        env["CUDA_VISIBLE_DEVICES"] = ""
        reason = "no gpu tokens for this job" if n_gpus <= 0 else "no GPU on this machine"
        log.info("running on CPU (%s)", reason)
        yield GpuClaim((), reason)
        return
    if n_gpus > len(devices):
        raise EditlabError(f"job asks for {n_gpus} GPUs but only {len(devices)} are visible ({','.join(devices)})")
    lock_root = Path(lock_dir or env.get(LOCK_DIR_ENV) or default_lock_dir())
    lock_root.mkdir(parents=True, exist_ok=True)
    held: dict[str, int] = {}
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            for device in devices:
                if len(held) == n_gpus:
                    break
                fd = _try_lock(lock_root / _lock_name(device))
                if fd is not None:
                    held[device] = fd
            if len(held) == n_gpus:
                break
            # All or nothing: a partial hold could deadlock two multi-GPU jobs against each other.
            for fd in held.values():
                os.close(fd)
            held.clear()
            if time.monotonic() > deadline:
                raise EditlabError(
                    f"no free GPU slot after {timeout_s:.0f} s (devices {','.join(devices)}, locks in {lock_root});"
                    " another process holds them")
            time.sleep(poll_s)
        claimed = tuple(d for d in devices if d in held)
        env["CUDA_VISIBLE_DEVICES"] = ",".join(claimed)
        log.info("claimed GPU slot(s) %s (locks in %s)", ",".join(claimed), lock_root)
        yield GpuClaim(claimed, "local slot lock")
    finally:
        if len(held) == n_gpus:
            # logged while still held, so that a log's claim..release span lies inside the real hold
            log.info("releasing GPU slot(s) %s", ",".join(d for d in devices if d in held))
        for fd in held.values():
            os.close(fd)  # closing the descriptor releases the flock
