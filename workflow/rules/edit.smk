# Stage 4: sequential model editing (DESIGN §6-7, §11). One job per stream: a fold (`fold{k}`) or, when
# sme.long_stream.enabled, all folds concatenated (`long`). Each job is pinned to one GPU if any (the job wrapper, editlab.stages.job).
# A killed job resumes from `.resume.pt` in its stream directory (never an output; docs/reliability.md).


rule sme_tpatcher:
    input:
        unpack(lambda wc: TARGETS.sme_inputs(wc.task, wc.stream)),
    output:
        **LAYOUT.sme_outputs("{task}", "tpatcher", "{stream}"),
    log:
        f"{LOGS}/sme/{{task}}/tpatcher/{{stream}}.log",
    benchmark:
        LAYOUT.sme_bench("{task}", "tpatcher", "{stream}")
    wildcard_constraints:
        task="fever|zsre",
        stream=r"fold\d+|long",
    priority: lambda wc: job_priority("sme_stream", method="tpatcher", stream=wc.stream)
    conda:
        "../../envs/torch.yaml"
    threads: STAGE_PARAMS.threads("sme_stream")
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=240,
    params:
        # the config values the stream reads (sme.tpatcher and the shared sme keys, not another
        # method's), so that changing them reruns exactly these fold jobs
        **STAGE_PARAMS("sme_stream", method="tpatcher"),
        code=STAGE_CODE("sme_stream"),
    script:
        "../scripts/sme_stream.py"


rule sme_baseline:
    input:
        unpack(lambda wc: TARGETS.sme_inputs(wc.task, wc.stream)),
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
    priority: lambda wc: job_priority("sme_stream", method=wc.method, stream=wc.stream)
    conda:
        "../../envs/torch.yaml"
    threads: STAGE_PARAMS.threads("sme_stream")
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=240,
    params:
        **STAGE_PARAMS("sme_stream"),
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
        **STAGE_PARAMS("edit_speed"),
        code=STAGE_CODE("edit_speed"),
    script:
        "../scripts/edit_speed.py"
