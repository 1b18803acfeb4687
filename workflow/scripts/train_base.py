"""Train (mini) or fine-tune (paper) one task's base model; write the model directory and metrics."""

from editlab.models.pipeline import train_and_save
from editlab.runtime import gpu_slot, script_logging

# gpu_slot pins this job to a free local GPU (no-op under SLURM) before torch touches CUDA.
with script_logging(snakemake.log[0]), gpu_slot(snakemake.resources):
    train_and_save(
        task=snakemake.wildcards.task,
        config=snakemake.config,
        files=dict(snakemake.input),
        model_dir=snakemake.output.model,
        metrics_path=snakemake.output.metrics,
        threads=snakemake.threads,
    )
