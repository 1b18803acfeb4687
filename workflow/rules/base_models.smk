# Stage 3: the base models to be edited (DESIGN §5): FEVER fact checker, zsRE seq2seq QA.


rule base_model:
    input:
        unpack(lambda wc: LAYOUT.data_files(wc.task)),
        unpack(lambda wc: LAYOUT.split_files(wc.task)),
        hub=lambda wc: TARGETS.hub_markers(f"base_{wc.task}"),
    output:
        model=directory(LAYOUT.base_model("{task}")),
        metrics=LAYOUT.base_metrics("{task}"),
    log:
        f"{LOGS}/base/{{task}}.log",
    benchmark:
        f"{BENCH}/base/{{task}}.tsv"
    wildcard_constraints:
        task="fever|zsre",
    priority: job_priority("base_model")
    conda:
        "../../envs/torch.yaml"
    threads: STAGE_PARAMS.threads("base_model")
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=240,
    params:
        **STAGE_PARAMS("base_model"),
        code=STAGE_CODE("base_model"),
    script:
        "../scripts/train_base.py"
