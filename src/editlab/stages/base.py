"""Stage 3: train (mini) or fine-tune (paper) one task's base model; the model directory and metrics."""

from __future__ import annotations

from editlab.stages.job import Job


def base_model(job: Job) -> None:
    from editlab.models.pipeline import train_and_save

    files = {k: job.input[k] for k in job.input.keys()}
    train_and_save(task=job.wildcards.task, config=job.config, files=files, model_dir=job.output.model,
                   metrics_path=job.output.metrics, threads=job.threads)
