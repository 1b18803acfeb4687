# Rank-one editing of encoder-decoder NMT models (DESIGN §8, §11): toy pair or hub model -> behaviour
# probes -> second-moment statistics -> edits (rome, r-rome, ft, tpatcher; single and sequential) -> table,
# figure. rome / r-rome also write their sequential stream as a rank-one patch file (docs/patch_files.md).

if TARGETS.nmt_source() == "toy":

    rule nmt_toy_data:
        output:
            **TARGETS.nmt_candidate_files(),
            **TARGETS.nmt_corpus_files(),
        log:
            f"{LOGS}/nmt/toy_data.log",
        priority: job_priority("nmt_toy_data")
        conda:
            "../../envs/torch.yaml"
        threads: 1
        params:
            **STAGE_PARAMS("nmt_toy_data"),
            code=STAGE_CODE("nmt_toy_data"),
        script:
            "../scripts/nmt_toy_data.py"

else:

    rule nmt_hub_data:
        input:
            model=LAYOUT.nmt_model(),
            hub=TARGETS.hub_markers("nmt_data"),
        output:
            **TARGETS.nmt_candidate_files(),
            **TARGETS.nmt_corpus_files(),
        log:
            f"{LOGS}/nmt/hub_data.log",
        benchmark:
            f"{BENCH}/nmt/hub_data.tsv"
        conda:
            "../../envs/torch.yaml"
        threads: 2
        resources:
            gpu=1,
        params:
            **STAGE_PARAMS("nmt_hub_data"),
            code=STAGE_CODE("nmt_hub_data"),
        script:
            "../scripts/nmt_hub_data.py"


rule nmt_model:
    input:
        unpack(lambda wc: TARGETS.nmt_model_inputs()),
    output:
        model=directory(LAYOUT.nmt_model()),
    log:
        f"{LOGS}/nmt/model.log",
    benchmark:
        f"{BENCH}/nmt/model.tsv"
    priority: job_priority("nmt_model")
    conda:
        "../../envs/torch.yaml"
    # One thread: the tiny model gains little from two, and two spinning threads are far slower on a shared CPU.
    threads: 1
    resources:
        gpu=1,
        mem_mb=4000,
    params:
        **STAGE_PARAMS("nmt_model"),
        code=STAGE_CODE("nmt_model"),
    script:
        "../scripts/nmt_model.py"


rule nmt_model_metrics:
    input:
        model=LAYOUT.nmt_model(),
        test=LAYOUT.nmt_data("test.jsonl"),
    output:
        LAYOUT.nmt("model_metrics.json"),
    log:
        f"{LOGS}/nmt/model_metrics.log",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        gpu=1,
    params:
        **STAGE_PARAMS("nmt_model_metrics"),
        code=STAGE_CODE("nmt_model_metrics"),
    script:
        "../scripts/nmt_model_metrics.py"


rule nmt_probe:
    input:
        model=LAYOUT.nmt_model(),
        candidates=lambda wc: TARGETS.nmt_task_candidates(wc.task),
    output:
        **LAYOUT.nmt_task_files("{task}"),
        presence=LAYOUT.nmt_presence("{task}"),
    log:
        f"{LOGS}/nmt/probe_{{task}}.log",
    wildcard_constraints:
        task=NMT_TASK_RE,
    priority: job_priority("nmt_probe")
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        gpu=1,
    params:
        **STAGE_PARAMS("nmt_probe"),
        code=STAGE_CODE("nmt_probe"),
    script:
        "../scripts/nmt_probe.py"


rule nmt_stats:
    input:
        model=LAYOUT.nmt_model(),
        corpus=LAYOUT.nmt_data("train.jsonl"),
    output:
        LAYOUT.nmt_stats("{tag}", "{side}", "{layer}"),
    log:
        f"{LOGS}/nmt/stats_{{tag}}_{{side}}_layer{{layer}}.log",
    benchmark:
        f"{BENCH}/nmt/stats_{{tag}}_{{side}}_layer{{layer}}.tsv"
    wildcard_constraints:
        side="encoder|decoder",
        layer=r"\d+",
    priority: job_priority("nmt_stats")
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        gpu=1,
    params:
        **STAGE_PARAMS("nmt_stats"),
        code=STAGE_CODE("nmt_stats"),
    script:
        "../scripts/nmt_stats.py"


rule nmt_edit:
    input:
        unpack(lambda wc: TARGETS.nmt_edit_inputs(wc.task, wc.method)),
    output:
        summary=LAYOUT.nmt_edit_file("{task}", "{method}", "summary.json"),
        sequential=LAYOUT.nmt_edit_file("{task}", "{method}", "sequential.json"),
        edits=LAYOUT.nmt_edit_file("{task}", "{method}", "edits.jsonl"),
    log:
        f"{LOGS}/nmt/edit_{{task}}_{{method}}.log",
    benchmark:
        f"{BENCH}/nmt/edit_{{task}}_{{method}}.tsv"
    wildcard_constraints:
        task=NMT_TASK_RE,
        method="ft|tpatcher",
    priority: lambda wc: job_priority("nmt_edit", method=wc.method)
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        gpu=1,
    params:
        **STAGE_PARAMS("nmt_edit"),
        code=STAGE_CODE("nmt_edit"),
    script:
        "../scripts/nmt_edit.py"


# rome / r-rome: the same job, plus the sequential stream's rank-one factors as a patch file and the
# edited model's outputs that the applied patch must reproduce.
use rule nmt_edit as nmt_edit_rank_one with:
    output:
        summary=LAYOUT.nmt_edit_file("{task}", "{method}", "summary.json"),
        sequential=LAYOUT.nmt_edit_file("{task}", "{method}", "sequential.json"),
        edits=LAYOUT.nmt_edit_file("{task}", "{method}", "edits.jsonl"),
        patch_tensors=LAYOUT.nmt_edit_file(
            "{task}", "{method}", "patch/patches.safetensors"
        ),
        patch_meta=LAYOUT.nmt_edit_file("{task}", "{method}", "patch/patches.json"),
        patch_predictions=LAYOUT.nmt_edit_file(
            "{task}", "{method}", "patch/final_predictions.jsonl"
        ),
    wildcard_constraints:
        task=NMT_TASK_RE,
        method="rome|r-rome",


rule nmt_table:
    input:
        summaries=TARGETS.nmt_summary_files(),
    output:
        csv=report(
            LAYOUT.table("nmt"),
            caption="../report/nmt_table.rst",
            category="NMT editing",
        ),
        markdown=LAYOUT.figure("nmt_table", "md"),
        latex=LAYOUT.figure("nmt_table", "tex"),
        provenance=LAYOUT.table_provenance("nmt"),
    log:
        f"{LOGS}/nmt/table.log",
    conda:
        "../../envs/plot.yaml"
    threads: 1
    params:
        **STAGE_PARAMS("nmt_table"),
        code=STAGE_CODE("nmt_table"),
    script:
        "../scripts/nmt_table.py"


rule nmt_figure:
    input:
        summaries=TARGETS.nmt_summary_files(),
    output:
        pdf=report(
            LAYOUT.figure("nmt_metrics", "pdf"),
            caption="../report/nmt_metrics.rst",
            category="NMT editing",
        ),
        png=LAYOUT.figure("nmt_metrics", "png"),
    log:
        f"{LOGS}/nmt/figure.log",
    conda:
        "../../envs/plot.yaml"
    threads: 1
    params:
        **STAGE_PARAMS("nmt_figure"),
        code=STAGE_CODE("nmt_figure"),
    script:
        "../scripts/nmt_figure.py"
