# Stage 4: sequential model editing (DESIGN §6-7, §11). One job per stream: a fold (`fold{k}`) or, when
# sme.long_stream.enabled, all folds concatenated (`long`). Each job is pinned to one GPU if any (the job wrapper, editlab.stages.job).
# A killed job resumes from `.resume.pt` in its stream directory (never an output; docs/reliability.md).


rule sme_tpatcher:
    input:
        unpack(sme_inputs),
    output:
        **LAYOUT.sme_outputs("{task}", "tpatcher", "{stream}"),
    log:
        f"{LOGS}/sme/{{task}}/tpatcher/{{stream}}.log",
    benchmark:
        LAYOUT.sme_bench("{task}", "tpatcher", "{stream}")
    wildcard_constraints:
        task="fever|zsre",
        stream=r"fold\d+|long",
    conda:
        "../../envs/torch.yaml"
    threads: config["sme"].get("threads", 1)
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=240,
    params:
        method="tpatcher",
        # the config values the stream reads, so that changing them reruns the fold jobs
        sme=sme_settings("tpatcher"),
        max_edits=lambda wc: long_stream_limit(wc, "tpatcher"),
        seed=config["seed"],
        code=STAGE_CODE("sme_stream"),
    script:
        "../scripts/sme_stream.py"


rule sme_baseline:
    input:
        unpack(sme_inputs),
    output:
        **LAYOUT.sme_outputs("{task}", "{method}", "{stream}"),
    log:
        f"{LOGS}/sme/{{task}}/{{method}}/{{stream}}.log",
    benchmark:
        LAYOUT.sme_bench("{task}", "{method}", "{stream}")
    wildcard_constraints:
        task="fever|zsre",
        method="ft|ftkl",
        stream=r"fold\d+|long",
    conda:
        "../../envs/torch.yaml"
    threads: config["sme"].get("threads", 1)
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=240,
    params:
        method=lambda wc: wc.method,
        sme=lambda wc: sme_settings(wc.method),
        max_edits=long_stream_limit,
        seed=config["seed"],
        code=STAGE_CODE("sme_stream"),
    script:
        "../scripts/sme_stream.py"


# benchmarks/edit_speed.py in the DAG, for the cost figure's speed panel (report.edit_speed): both execution
# paths side by side on the mini models (fold 0) and on random bert-base / bart-base shaped models. CPU,
# one torch thread, as the timings in docs/methods/transformer_patcher.md.
rule edit_speed:
    input:
        models=[LAYOUT.base_model(t) for t in TASKS],
        data=[LAYOUT.data_file(t, "train") for t in TASKS],
        splits=[
            LAYOUT.split_file(t, s) for t in TASKS for s in ("fold0", "memory", "val")
        ],
    output:
        LAYOUT.edit_speed(),
    log:
        f"{LOGS}/benchmarks/edit_speed.log",
    benchmark:
        f"{BENCH}/benchmarks/edit_speed.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=16000,
        runtime=60,
    params:
        settings=config["report"]["edit_speed_settings"],
        sme=sme_settings("tpatcher"),
        code=STAGE_CODE("edit_speed"),
    script:
        "../scripts/edit_speed.py"
