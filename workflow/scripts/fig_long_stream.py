"""Figure: retention along one long stream of all edits (T-Patcher against FT)."""

from editlab.plots.long_stream import plot_long_stream
from editlab.results.settings import ReportSettings
from editlab.runtime import script_logging

with script_logging(snakemake.log[0]):
    plot_long_stream(snakemake.params.runs, snakemake.params.methods, ReportSettings.from_config(snakemake.params.report),
                     snakemake.output.pdf, snakemake.output.png, snakemake.params.profile)
