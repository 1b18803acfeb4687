"""Figure: efficacy / generalisation / specificity per NMT task and method."""

from editlab.nmt.report import load_summaries, plot_metrics
from editlab.runtime import script_logging

with script_logging(snakemake.log[0]):
    plot_metrics(load_summaries(list(snakemake.input.summaries)), snakemake.output.pdf, snakemake.output.png)
