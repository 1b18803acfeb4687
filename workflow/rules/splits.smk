# Stage 2: seeded splits persisted as id lists (DESIGN §4), then the edit folds.


rule splits:
    input:
        unpack(lambda wc: LAYOUT.data_files(wc.task)),
    output:
        **LAYOUT.split_files("{task}"),
    log:
        f"{LOGS}/splits/{{task}}.log",
    wildcard_constraints:
        task="fever|zsre",
    priority: job_priority("splits")
    conda:
        "../../envs/torch.yaml"
    threads: 1
    params:
        **STAGE_PARAMS("splits"),
        code=STAGE_CODE("splits"),
    script:
        "../scripts/make_splits.py"


rule fold:
    input:
        edit=LAYOUT.split_file("{task}", "edit"),
    output:
        LAYOUT.fold_file("{task}", "{k}"),
    log:
        f"{LOGS}/splits/{{task}}_fold{{k}}.log",
    wildcard_constraints:
        task="fever|zsre",
        k=r"\d+",
    priority: job_priority("fold")
    conda:
        "../../envs/torch.yaml"
    threads: 1
    params:
        **STAGE_PARAMS("fold"),
        code=STAGE_CODE("fold"),
    script:
        "../scripts/make_fold.py"
