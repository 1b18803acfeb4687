"""Rebuild Cao-style `rephrases` for one KILT file by en->de->en back-translation."""

from editlab.data.backtranslate import BacktranslateConfig, add_rephrases
from editlab.runtime import configure_torch, gpu_slot, script_logging

# gpu_slot pins this job to a free local GPU (no-op under SLURM) before torch touches CUDA.
with script_logging(snakemake.log[0]), gpu_slot(snakemake.resources):
    device = configure_torch(snakemake.config, threads=snakemake.threads)
    add_rephrases(snakemake.input.kilt, snakemake.output[0],
                  BacktranslateConfig.from_config(snakemake.params.backtranslate), device)
