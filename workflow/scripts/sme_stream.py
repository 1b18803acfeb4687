"""Run one SME stream (a fold, or the long stream) of one method and write its result files."""

from pathlib import Path

from editlab.runtime import script_logging
from editlab.sme.runner import run_stream

with script_logging(snakemake.log[0]):
    run_stream(
        task=snakemake.wildcards.task,
        method=snakemake.params.method,
        config=snakemake.config,
        files={key: snakemake.input[key] for key in snakemake.input.keys()},
        out_dir=Path(snakemake.output.summary).parent,
        fold=snakemake.wildcards.stream,
        threads=snakemake.threads,
    )
