"""Concatenate per-(task, method) tables into one, refusing mixed evaluation protocols."""

from editlab.provenance import write_table_sidecar
from editlab.results.aggregate import combine, write_table
from editlab.runtime import script_logging

with script_logging(snakemake.log[0]):
    write_table(combine(snakemake.input.tables), snakemake.output[0])
    write_table_sidecar(snakemake.output.provenance, snakemake.output[0], snakemake.config)
