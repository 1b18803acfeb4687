"""Figure: cost per edit by method and execution path."""

from editlab.plots.cost import plot_cost
from editlab.results.settings import ReportSettings
from editlab.runtime import script_logging

with script_logging(snakemake.log[0]):
    plot_cost(snakemake.params.runs, ReportSettings.from_config(snakemake.params.report), snakemake.output.pdf,
              snakemake.output.png, snakemake.params.profile,
              edit_speed=snakemake.input.edit_speed[0] if snakemake.input.edit_speed else None)
