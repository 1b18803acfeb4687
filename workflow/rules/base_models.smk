# Stage 3: the base models to be edited (DESIGN §5): FEVER fact checker, zsRE seq2seq QA.


rule base_model:
    input:
        unpack(lambda wc: data_files(wc.task)),
        unpack(lambda wc: split_files(wc.task)),
        hub=lambda wc: hub_markers(f"base_{wc.task}"),
    output:
        model=directory(LAYOUT.base_model("{task}")),
        metrics=LAYOUT.base_metrics("{task}"),
    log:
        f"{LOGS}/base/{{task}}.log",
    benchmark:
        f"{BENCH}/base/{{task}}.tsv"
    wildcard_constraints:
        task="fever|zsre",
    conda:
        "../../envs/torch.yaml"
    threads: config.get("threads", 1)
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=240,
    params:
        base=lambda wc: config["base"][wc.task],
        seed=config["seed"],
        code=STAGE_CODE("base_model"),
    script:
        "../scripts/train_base.py"
