"""Rebuild Cao-style `rephrases` for one KILT file by en->de->en back-translation."""

from editlab.stages import run_stage

run_stage("backtranslate", snakemake)
