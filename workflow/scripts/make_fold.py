"""Cut the edit set into folds (seeded order) and write fold k."""

from editlab.stages import run_stage

run_stage("fold", snakemake)
