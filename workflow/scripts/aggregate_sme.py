"""Mean and interval across folds of one task and method's SME summaries."""

from editlab.results.aggregate import aggregate_method, write_table
from editlab.results.settings import ReportSettings
from editlab.runtime import script_logging

with script_logging(snakemake.log[0]):
    settings = ReportSettings.from_config(snakemake.params.report)
    table = aggregate_method(snakemake.input.summaries, snakemake.wildcards.task, snakemake.wildcards.method,
                             settings.interval_level)
    write_table(table, snakemake.output[0])
