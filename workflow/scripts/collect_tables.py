"""Concatenate per-(task, method) tables into one, refusing mixed evaluation protocols."""

from editlab.results.aggregate import combine, write_table
from editlab.runtime import script_logging

with script_logging(snakemake.log[0]):
    write_table(combine(snakemake.input.tables), snakemake.output[0])
