"""Run one editing method on one NMT task (single edits and the sequential stream; rank-one patch file)."""

import os

from editlab.nmt.pipeline import run_method
from editlab.runtime import configure_torch, script_logging

with script_logging(snakemake.log[0]):
    device = configure_torch(snakemake.config, snakemake.threads)
    inp = snakemake.input
    stats_dir = os.path.dirname(inp.stats) if "stats" in inp.keys() else ""
    out = snakemake.output
    patch_dir = os.path.dirname(out.patch_meta) if "patch_meta" in out.keys() else None
    run_method(snakemake.params.nmt, snakemake.params.seed, snakemake.wildcards.task, snakemake.wildcards.method,
               inp.model, {k: inp[k] for k in ("requests", "generalization", "specificity")}, inp.test, inp.corpus,
               stats_dir, out.summary, out.sequential, out.edits, device, config=snakemake.config, patch_dir=patch_dir)
