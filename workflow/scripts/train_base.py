"""Train (mini) or fine-tune (paper) one task's base model; write the model directory and metrics."""

from editlab.models.pipeline import train_and_save
from editlab.runtime import script_logging

with script_logging(snakemake.log[0]):
    train_and_save(
        task=snakemake.wildcards.task,
        config=snakemake.config,
        files=dict(snakemake.input),
        model_dir=snakemake.output.model,
        metrics_path=snakemake.output.metrics,
        threads=snakemake.threads,
    )
