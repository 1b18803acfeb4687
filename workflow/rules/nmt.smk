# Rank-one editing of encoder-decoder NMT models (DESIGN §8, §11): toy pair or hub model -> behaviour
# probes -> second-moment statistics -> edits (rome, r-rome, ft, tpatcher; single and sequential) -> table,
# figure. rome / r-rome also write their sequential stream as a rank-one patch file (docs/patch_files.md).

NMT_DATA = f"{NMT}/data"

if config["nmt"]["source"] == "toy":

    rule nmt_toy_data:
        input:
            code=library("nmt/toy_language.py", "nmt/toy_data.py", "nmt/tasks.py"),
        output:
            **nmt_candidate_files(),
            train=f"{NMT_DATA}/train.jsonl",
            test=f"{NMT_DATA}/test.jsonl",
            lexicon=f"{NMT_DATA}/lexicon.json",
        log:
            f"{LOGS}/nmt/toy_data.log",
        conda:
            "../../envs/torch.yaml"
        threads: 1
        params:
            nmt=nmt_params("toy", "tasks"),
            seed=config["seed"],
        script:
            "../scripts/nmt_toy_data.py"

else:

    rule nmt_hub_data:
        input:
            model=f"{NMT}/model",
            code=library("nmt/hub_data.py", "nmt/tasks.py", "nmt/model.py"),
        output:
            **nmt_candidate_files(),
            train=f"{NMT_DATA}/train.jsonl",
            test=f"{NMT_DATA}/test.jsonl",
            lexicon=f"{NMT_DATA}/lexicon.json",
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
            nmt=nmt_params("hub_data", "stats", "eval", "tasks"),
            seed=config["seed"],
        script:
            "../scripts/nmt_hub_data.py"


rule nmt_model:
    input:
        unpack(nmt_model_inputs),
        code=library("nmt/model.py", "nmt/tokenizer.py"),
    output:
        model=directory(f"{NMT}/model"),
    log:
        f"{LOGS}/nmt/model.log",
    benchmark:
        f"{BENCH}/nmt/model.tsv"
    conda:
        "../../envs/torch.yaml"
    # One thread: the tiny model gains little from two, and two spinning threads are far slower on a shared CPU.
    threads: 1
    resources:
        gpu=1,
        mem_mb=4000,
    params:
        nmt=nmt_params("source", "hub_id", "model"),
        seed=config["seed"],
    script:
        "../scripts/nmt_model.py"


rule nmt_model_metrics:
    input:
        model=f"{NMT}/model",
        test=f"{NMT_DATA}/test.jsonl",
        code=library("nmt/model.py", "nmt/metrics.py"),
    output:
        f"{NMT}/model_metrics.json",
    log:
        f"{LOGS}/nmt/model_metrics.log",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        gpu=1,
    params:
        nmt=nmt_params("eval"),
    script:
        "../scripts/nmt_model_metrics.py"


rule nmt_probe:
    input:
        model=f"{NMT}/model",
        candidates=lambda wc: list(
            nmt_candidate_files()[f"{wc.task}_{k}"] for k in NMT_TASK_FILES
        ),
        code=library("nmt/probe.py", "nmt/tasks.py"),
    output:
        **nmt_task_files("{task}"),
        presence=f"{NMT}/tasks/{{task}}/presence.json",
    log:
        f"{LOGS}/nmt/probe_{{task}}.log",
    wildcard_constraints:
        task=NMT_TASK_RE,
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        gpu=1,
    params:
        nmt=nmt_params("min_presence", "eval"),
    script:
        "../scripts/nmt_probe.py"


rule nmt_stats:
    input:
        model=f"{NMT}/model",
        corpus=f"{NMT_DATA}/train.jsonl",
        code=library(
            "rome/stats.py", "rome/locate.py", "rome/hooks.py", "rome/batches.py"
        ),
    output:
        f"{NMT}/stats/{{tag}}/{{side}}_layer{{layer}}.safetensors",
    log:
        f"{LOGS}/nmt/stats_{{tag}}_{{side}}_layer{{layer}}.log",
    benchmark:
        f"{BENCH}/nmt/stats_{{tag}}_{{side}}_layer{{layer}}.tsv"
    wildcard_constraints:
        side="encoder|decoder",
        layer=r"\d+",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        gpu=1,
    params:
        nmt=nmt_params("stats", "source", "hub_id"),
    script:
        "../scripts/nmt_stats.py"


rule nmt_edit:
    input:
        unpack(nmt_edit_inputs),
        code=library(
            "nmt/experiment.py",
            "nmt/edit_inputs.py",
            "nmt/finetune.py",
            "nmt/hparams.py",
            "nmt/metrics.py",
            "nmt/pipeline.py",
            "nmt/tpatcher.py",
            "rome/editor.py",
            "rome/compute.py",
            "rome/hparams.py",
            "editors/tpatcher.py",
            "editors/site.py",
            "editors/patch.py",
            "editors/losses.py",
            "sme/paths.py",
            "patchfile.py",
            "provenance.py",
        ),
    output:
        summary=f"{NMT}/{{task}}/{{method}}/summary.json",
        sequential=f"{NMT}/{{task}}/{{method}}/sequential.json",
        edits=f"{NMT}/{{task}}/{{method}}/edits.jsonl",
    log:
        f"{LOGS}/nmt/edit_{{task}}_{{method}}.log",
    benchmark:
        f"{BENCH}/nmt/edit_{{task}}_{{method}}.tsv"
    wildcard_constraints:
        task=NMT_TASK_RE,
        method="ft|tpatcher",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        gpu=1,
    params:
        nmt=nmt_edit_params,
        seed=config["seed"],
    script:
        "../scripts/nmt_edit.py"


# rome / r-rome: the same job, plus the sequential stream's rank-one factors as a patch file and the
# edited model's outputs that the applied patch must reproduce.
use rule nmt_edit as nmt_edit_rank_one with:
    output:
        summary=f"{NMT}/{{task}}/{{method}}/summary.json",
        sequential=f"{NMT}/{{task}}/{{method}}/sequential.json",
        edits=f"{NMT}/{{task}}/{{method}}/edits.jsonl",
        patch_tensors=f"{NMT}/{{task}}/{{method}}/patch/patches.safetensors",
        patch_meta=f"{NMT}/{{task}}/{{method}}/patch/patches.json",
        patch_predictions=f"{NMT}/{{task}}/{{method}}/patch/final_predictions.jsonl",
    wildcard_constraints:
        task=NMT_TASK_RE,
        method="rome|r-rome",


rule nmt_table:
    input:
        summaries=nmt_summary_files(),
        code=library("nmt/report.py", "provenance.py"),
    output:
        csv=report(
            f"{RESULTS}/tables/nmt.csv",
            caption="../report/nmt_table.rst",
            category="NMT editing",
        ),
        markdown=f"{FIGURES}/nmt_table.md",
        latex=f"{FIGURES}/nmt_table.tex",
        provenance=f"{RESULTS}/tables/nmt.provenance.json",
    log:
        f"{LOGS}/nmt/table.log",
    conda:
        "../../envs/plot.yaml"
    threads: 1
    script:
        "../scripts/nmt_table.py"


rule nmt_figure:
    input:
        summaries=nmt_summary_files(),
        code=library("nmt/report.py", "plots/style.py"),
    output:
        pdf=report(
            f"{FIGURES}/nmt_metrics.pdf",
            caption="../report/nmt_metrics.rst",
            category="NMT editing",
        ),
        png=f"{FIGURES}/nmt_metrics.png",
    log:
        f"{LOGS}/nmt/figure.log",
    conda:
        "../../envs/plot.yaml"
    threads: 1
    script:
        "../scripts/nmt_figure.py"
