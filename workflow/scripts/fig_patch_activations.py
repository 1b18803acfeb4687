"""Figure: T-Patcher patch activation heat map for one task."""

from editlab.plots.activations import plot_patch_activations
from editlab.results.settings import ReportSettings
from editlab.runtime import script_logging

with script_logging(snakemake.log[0]):
    plot_patch_activations(snakemake.wildcards.task, snakemake.input.acts, snakemake.params.fold,
                           ReportSettings.from_config(snakemake.params.report), snakemake.output.pdf,
                           snakemake.output.png, snakemake.params.profile)
