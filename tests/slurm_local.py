"""Start and stop a throw-away single-node SLURM (munge + slurmctld + slurmd) on localhost, as root.

How the tests use it: docs/scaling.md, section "Proven against a running SLURM" (Debian slurm-wlm 22.05).
Everything lives in one temporary directory; clients find it through SLURM_CONF and a link at
/etc/slurm/slurm.conf (the jobstep plugin strips SLURM_CONF before its inner srun). Two fake GPUs are
declared in gres.conf, backed by existing character devices, so `--gpus=1` jobs schedule without a GPU
and at most 2 run at once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Character devices that exist on any Linux (containers included) to back the fake GPU slots.
FAKE_GPU_DEVICES = ("/dev/null", "/dev/zero")
MUNGE_SOCKET_DIR = Path("/run/munge")
# The slurm jobstep plugin strips SLURM_* (SLURM_CONF too) before its inner `srun`, which then only
# finds the config at the compiled-in default path, as on a real cluster; we link ours there.
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")


class SlurmUnavailable(RuntimeError):
    """SLURM could not be installed/started; the message says which step failed."""


@dataclass
class LocalSlurm:
    root: Path
    conf: Path
    host: str

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["SLURM_CONF"] = str(self.conf)
        return env

    def run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(list(cmd), env=self.env(), capture_output=True, text=True, timeout=60, check=check)

    def log_tail(self, n: int = 4000) -> str:
        parts = []
        for name in ("slurmctld.log", "slurmd.log"):
            path = self.root / name
            if path.exists():
                parts.append(f"--- {name}\n" + path.read_text(errors="replace")[-n:])
        return "\n".join(parts)


def _memory_mb() -> int:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    return 4096


def write_config(root: Path, host: str, cpus: int, memory_mb: int) -> Path:
    for sub in ("state", "spool"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    conf = root / "slurm.conf"
    conf.write_text(f"""\
ClusterName=editlab
SlurmctldHost={host}
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SlurmUser=root
SlurmdUser=root
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
MinJobAge=300
SlurmdParameters=config_overrides
GresTypes=gpu
NodeName={host} CPUs={cpus} RealMemory={memory_mb} Gres=gpu:{len(FAKE_GPU_DEVICES)} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
""")
    gres = ["AutoDetect=off"] + [f"NodeName={host} Name=gpu File={dev}" for dev in FAKE_GPU_DEVICES]
    (root / "gres.conf").write_text("\n".join(gres) + "\n")
    return conf


def _start_munge() -> int | None:
    """Start munged unless one already answers; return the pid of the one we started."""
    if shutil.which("munge") and subprocess.run("munge -n | unmunge", shell=True,
                                                capture_output=True).returncode == 0:
        return None
    for d in (MUNGE_SOCKET_DIR, Path("/var/log/munge"), Path("/var/lib/munge")):
        d.mkdir(parents=True, exist_ok=True)
    pidfile = MUNGE_SOCKET_DIR / "munged.pid"
    proc = subprocess.run(["munged", "--force"], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise SlurmUnavailable(f"munged failed to start: {proc.stderr.strip()}")
    for _ in range(50):
        if pidfile.exists() and pidfile.read_text().strip():
            return int(pidfile.read_text().strip())
        time.sleep(0.1)
    raise SlurmUnavailable("munged started but wrote no pid file")


def _wait_idle(slurm: LocalSlurm, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    state = ""
    while time.monotonic() < deadline:
        proc = slurm.run("sinfo", "-h", "-N", "-o", "%t", check=False)
        state = proc.stdout.strip()
        if state in ("idle", "mix", "alloc"):
            return
        if state.startswith(("drain", "inval")):
            reason = slurm.run("sinfo", "-R", check=False).stdout
            raise SlurmUnavailable(f"node is {state}: {reason}\n{slurm.log_tail()}")
        time.sleep(0.5)
    raise SlurmUnavailable(f"node not idle after {timeout_s:.0f} s (state {state!r})\n{slurm.log_tail()}")


def _kill_pidfile(path: Path) -> None:
    if path.exists():
        with contextlib.suppress(ValueError, ProcessLookupError):
            os.kill(int(path.read_text().strip()), signal.SIGTERM)


@contextlib.contextmanager
def local_slurm(root: Path) -> Iterator[LocalSlurm]:
    for tool in ("munged", "slurmctld", "slurmd", "sbatch", "squeue"):
        if shutil.which(tool) is None:
            raise SlurmUnavailable(f"{tool} not found: install slurm-wlm and munge (.ci/system_packages.sh)")
    host = socket.gethostname().split(".")[0]
    conf = write_config(root, host, cpus=max(os.cpu_count() or 1, 16), memory_mb=max(_memory_mb(), 64000))
    slurm = LocalSlurm(root=root, conf=conf, host=host)
    if SYSTEM_CONF.is_symlink() and not SYSTEM_CONF.exists():
        SYSTEM_CONF.unlink()  # dangling link of an earlier, killed test run whose directory is gone
    if SYSTEM_CONF.exists() or SYSTEM_CONF.is_symlink():
        if not (SYSTEM_CONF.is_symlink() and "editlab" in SYSTEM_CONF.read_text(errors="replace")):
            raise SlurmUnavailable(f"{SYSTEM_CONF} exists and is not a test config; refusing to replace it")
        SYSTEM_CONF.unlink()  # stale link from an earlier, killed test run
    SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
    SYSTEM_CONF.symlink_to(conf)
    munge_pid = None
    try:
        munge_pid = _start_munge()
        for daemon in ("slurmctld", "slurmd"):
            proc = subprocess.run([daemon, "-f", str(conf)], env=slurm.env(), capture_output=True, text=True,
                                  timeout=60)
            if proc.returncode != 0:
                raise SlurmUnavailable(f"{daemon} failed: {proc.stderr.strip()}\n{slurm.log_tail()}")
        _wait_idle(slurm)
        yield slurm
    finally:
        slurm.run("scontrol", "shutdown", check=False)
        time.sleep(1.0)
        # scontrol shutdown stops both daemons; the pid files cover a controller that never answered.
        _kill_pidfile(root / "slurmd.pid")
        _kill_pidfile(root / "slurmctld.pid")
        if munge_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(munge_pid, signal.SIGTERM)
        if SYSTEM_CONF.is_symlink() and SYSTEM_CONF.resolve() == conf.resolve():
            SYSTEM_CONF.unlink()
