# Rank-one editing of encoder-decoder NMT models (DESIGN §8, §11): toy pair or hub model -> behaviour
# probes -> second-moment statistics -> edits (rome, r-rome, ft, tpatcher; single and sequential) -> table,
# figure. rome / r-rome also write their sequential stream as a rank-one patch file (docs/patch_files.md).

NMT_DATA = f"{NMT}/data"

if config["nmt"]["source"] == "toy":

    rule nmt_toy_data:
        output:
            train=f"{NMT_DATA}/train.jsonl",
            test=f"{NMT_DATA}/test.jsonl",
            lexicon=f"{NMT_DATA}/lexicon.json",
            **nmt_candidate_files(),
        input:
            code=library("nmt/toy_language.py", "nmt/toy_data.py", "nmt/tasks.py"),
        params:
            nmt=nmt_params("toy", "tasks"),
            seed=config["seed"],
        log:
            f"{LOGS}/nmt/toy_data.log",
        threads: 1
        conda:
            "../../envs/torch.yaml"
        script:
            "../scripts/nmt_toy_data.py"

else:

    rule nmt_hub_data:
        output:
            train=f"{NMT_DATA}/train.jsonl",
            test=f"{NMT_DATA}/test.jsonl",
            lexicon=f"{NMT_DATA}/lexicon.json",
            **nmt_candidate_files(),
        input:
            model=f"{NMT}/model",
            code=library("nmt/hub_data.py", "nmt/tasks.py", "nmt/model.py"),
        params:
            nmt=nmt_params("hub_data", "stats", "eval", "tasks"),
            seed=config["seed"],
        log:
            f"{LOGS}/nmt/hub_data.log",
        benchmark:
            f"{BENCH}/nmt/hub_data.tsv"
        threads: 2
        resources:
            gpu=1,
        conda:
            "../../envs/torch.yaml"
        script:
            "../scripts/nmt_hub_data.py"


rule nmt_model:
    output:
        model=directory(f"{NMT}/model"),
    input:
        unpack(nmt_model_inputs),
        code=library("nmt/model.py", "nmt/tokenizer.py"),
    params:
        nmt=nmt_params("source", "hub_id", "model"),
        seed=config["seed"],
    log:
        f"{LOGS}/nmt/model.log",
    benchmark:
        f"{BENCH}/nmt/model.tsv"
    # One thread: the tiny model gains little from two, and two spinning threads are far slower on a shared CPU.
    threads: 1
    resources:
        gpu=1,
        mem_mb=4000,
    conda:
        "../../envs/torch.yaml"
    script:
        "../scripts/nmt_model.py"


rule nmt_model_metrics:
    output:
        f"{NMT}/model_metrics.json",
    input:
        model=f"{NMT}/model",
        test=f"{NMT_DATA}/test.jsonl",
        code=library("nmt/model.py", "nmt/metrics.py"),
    params:
        nmt=nmt_params("eval"),
    log:
        f"{LOGS}/nmt/model_metrics.log",
    threads: 1
    resources:
        gpu=1,
    conda:
        "../../envs/torch.yaml"
    script:
        "../scripts/nmt_model_metrics.py"


rule nmt_probe:
    output:
        **nmt_task_files("{task}"),
        presence=f"{NMT}/tasks/{{task}}/presence.json",
    input:
        model=f"{NMT}/model",
        candidates=lambda wc: list(nmt_candidate_files()[f"{wc.task}_{k}"] for k in NMT_TASK_FILES),
        code=library("nmt/probe.py", "nmt/tasks.py"),
    params:
        nmt=nmt_params("min_presence", "eval"),
    log:
        f"{LOGS}/nmt/probe_{{task}}.log",
    wildcard_constraints:
        task=NMT_TASK_RE,
    threads: 1
    resources:
        gpu=1,
    conda:
        "../../envs/torch.yaml"
    script:
        "../scripts/nmt_probe.py"


rule nmt_stats:
    output:
        f"{NMT}/stats/{{tag}}/{{side}}_layer{{layer}}.safetensors",
    input:
        model=f"{NMT}/model",
        corpus=f"{NMT_DATA}/train.jsonl",
        code=library("rome/stats.py", "rome/locate.py", "rome/hooks.py", "rome/batches.py"),
    params:
        nmt=nmt_params("stats", "source", "hub_id"),
    log:
        f"{LOGS}/nmt/stats_{{tag}}_{{side}}_layer{{layer}}.log",
    benchmark:
        f"{BENCH}/nmt/stats_{{tag}}_{{side}}_layer{{layer}}.tsv"
    wildcard_constraints:
        side="encoder|decoder",
        layer=r"\d+",
    threads: 1
    resources:
        gpu=1,
    conda:
        "../../envs/torch.yaml"
    script:
        "../scripts/nmt_stats.py"


rule nmt_edit:
    output:
        summary=f"{NMT}/{{task}}/{{method}}/summary.json",
        sequential=f"{NMT}/{{task}}/{{method}}/sequential.json",
        edits=f"{NMT}/{{task}}/{{method}}/edits.jsonl",
    input:
        unpack(nmt_edit_inputs),
        code=library("nmt/experiment.py", "nmt/edit_inputs.py", "nmt/finetune.py", "nmt/hparams.py",
                     "nmt/metrics.py", "nmt/pipeline.py", "nmt/tpatcher.py", "rome/editor.py", "rome/compute.py",
                     "rome/hparams.py", "editors/tpatcher.py", "editors/site.py", "editors/patch.py",
                     "editors/losses.py", "sme/paths.py", "patchfile.py", "provenance.py"),
    params:
        nmt=nmt_edit_params,
        seed=config["seed"],
    log:
        f"{LOGS}/nmt/edit_{{task}}_{{method}}.log",
    benchmark:
        f"{BENCH}/nmt/edit_{{task}}_{{method}}.tsv"
    wildcard_constraints:
        task=NMT_TASK_RE,
        method="ft|tpatcher",
    threads: 1
    resources:
        gpu=1,
    conda:
        "../../envs/torch.yaml"
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
    output:
        csv=f"{RESULTS}/tables/nmt.csv",
        markdown=f"{FIGURES}/nmt_table.md",
        latex=f"{FIGURES}/nmt_table.tex",
        provenance=f"{RESULTS}/tables/nmt.provenance.json",
    input:
        summaries=nmt_summary_files(),
        code=library("nmt/report.py", "provenance.py"),
    log:
        f"{LOGS}/nmt/table.log",
    threads: 1
    conda:
        "../../envs/plot.yaml"
    script:
        "../scripts/nmt_table.py"


rule nmt_figure:
    output:
        pdf=report(f"{FIGURES}/nmt_metrics.pdf", caption="../report/nmt_metrics.rst", category="NMT editing"),
        png=f"{FIGURES}/nmt_metrics.png",
    input:
        summaries=nmt_summary_files(),
        code=library("nmt/report.py", "plots/style.py"),
    log:
        f"{LOGS}/nmt/figure.log",
    threads: 1
    conda:
        "../../envs/plot.yaml"
    script:
        "../scripts/nmt_figure.py"
