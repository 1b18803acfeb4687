"""Train (mini) or fine-tune (paper) one task's base model; write the model directory and metrics (stage `base_model`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.models.pipeline import train_and_save

    files = {k: job.input[k] for k in job.input.keys()}
    train_and_save(task=job.wildcards.task, config=job.config, files=files, model_dir=job.output.model,
                   metrics_path=job.output.metrics, threads=job.threads)
