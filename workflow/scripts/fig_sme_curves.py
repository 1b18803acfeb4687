"""Figure: SME metrics against the number of edits for one task."""

from editlab.plots.curves import plot_sme_curves
from editlab.results.settings import ReportSettings
from editlab.runtime import script_logging

with script_logging(snakemake.log[0]):
    plot_sme_curves(snakemake.wildcards.task, snakemake.params.runs, ReportSettings.from_config(snakemake.params.report),
                    snakemake.output.pdf, snakemake.output.png, snakemake.params.profile,
                    summaries=snakemake.input.summaries)
