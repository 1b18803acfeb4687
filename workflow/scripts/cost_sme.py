"""Cost of one task and method: seconds, patches and steps per edit, device-hours per fold."""

from editlab.results.aggregate import cost_method, write_table
from editlab.results.settings import ReportSettings
from editlab.runtime import script_logging

with script_logging(snakemake.log[0]):
    settings = ReportSettings.from_config(snakemake.params.report)
    table = cost_method(snakemake.input.summaries, snakemake.input.edits, snakemake.input.benchmarks,
                        snakemake.wildcards.task, snakemake.wildcards.method, settings.interval_level)
    write_table(table, snakemake.output[0])
