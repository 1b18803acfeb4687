# Stage 6: the paper figures, one rule per figure (DESIGN §10, showyourwork style): a figure's inputs are
# its data, and its params.code the plotting modules it imports, so touching one reruns only its figures.


rule fig_sme_curves:
    input:
        edits=lambda wc: [
            f
            for m in TARGETS.sme_methods()
            for f in TARGETS.sme_fold_outputs(wc.task, m, "edits.jsonl")
        ],
        curves=lambda wc: [
            f
            for m in TARGETS.sme_methods()
            for f in TARGETS.sme_fold_outputs(wc.task, m, "curve.jsonl")
        ],
        summaries=lambda wc: [
            f
            for m in TARGETS.sme_methods()
            for f in TARGETS.sme_fold_outputs(wc.task, m, "summary.json")
        ],
    output:
        pdf=LAYOUT.figure("sme_curves_{task}", "pdf"),
        png=report(
            LAYOUT.figure("sme_curves_{task}", "png"),
            caption="../report/sme_curves.rst",
            category="SME figures",
            labels={"figure": "metrics vs edits", "task": "{task}"},
        ),
    log:
        f"{LOGS}/figures/sme_curves_{{task}}.log",
    wildcard_constraints:
        task="fever|zsre",
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        **STAGE_PARAMS("fig_sme_curves"),
        code=STAGE_CODE("fig_sme_curves"),
    script:
        "../scripts/fig_sme_curves.py"


rule fig_patch_activations:
    input:
        acts=LAYOUT.sme_file(
            "{task}", "tpatcher", f"fold{TARGETS.heatmap_fold()}", "activations.npz"
        ),
    output:
        pdf=LAYOUT.figure("patch_activations_{task}", "pdf"),
        png=report(
            LAYOUT.figure("patch_activations_{task}", "png"),
            caption="../report/patch_activations.rst",
            category="SME figures",
            labels={"figure": "patch activations", "task": "{task}"},
        ),
    log:
        f"{LOGS}/figures/patch_activations_{{task}}.log",
    wildcard_constraints:
        task="fever|zsre",
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        **STAGE_PARAMS("fig_patch_activations"),
        code=STAGE_CODE("fig_patch_activations"),
    script:
        "../scripts/fig_patch_activations.py"


rule fig_long_stream:
    input:
        edits=[
            LAYOUT.sme_file(t, m, "long", "edits.jsonl")
            for t in TASKS
            for m in TARGETS.long_stream_methods()
        ],
        curves=[
            LAYOUT.sme_file(t, m, "long", "curve.jsonl")
            for t in TASKS
            for m in TARGETS.long_stream_methods()
        ],
    output:
        pdf=LAYOUT.figure("long_stream", "pdf"),
        png=report(
            LAYOUT.figure("long_stream", "png"),
            caption="../report/long_stream.rst",
            category="SME figures",
            labels={"figure": "long stream", "task": "all"},
        ),
    log:
        f"{LOGS}/figures/long_stream.log",
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        **STAGE_PARAMS("fig_long_stream"),
        code=STAGE_CODE("fig_long_stream"),
    script:
        "../scripts/fig_long_stream.py"


rule fig_cost:
    input:
        edits=[
            f
            for t in TASKS
            for m in TARGETS.sme_methods()
            for f in TARGETS.sme_fold_outputs(t, m, "edits.jsonl")
        ],
        summaries=[
            f
            for t in TASKS
            for m in TARGETS.sme_methods()
            for f in TARGETS.sme_fold_outputs(t, m, "summary.json")
        ],
        benchmarks=[
            f
            for t in TASKS
            for m in TARGETS.sme_methods()
            for f in TARGETS.sme_fold_benchmarks(t, m)
        ],
        edit_speed=TARGETS.edit_speed_files(),
    output:
        pdf=LAYOUT.figure("cost_per_edit", "pdf"),
        png=report(
            LAYOUT.figure("cost_per_edit", "png"),
            caption="../report/cost_per_edit.rst",
            category="SME figures",
            labels={"figure": "cost per edit", "task": "all"},
        ),
    log:
        f"{LOGS}/figures/cost_per_edit.log",
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        **STAGE_PARAMS("fig_cost"),
        code=STAGE_CODE("fig_cost"),
    script:
        "../scripts/fig_cost.py"


# The scale profile's figure (config/scale.yaml): metrics against the number of edits along the long streams,
# and seconds per edit and peak memory against the number of patches (edits.jsonl's per-edit fields).
rule fig_scale_stream:
    input:
        edits=[
            LAYOUT.sme_file(t, m, "long", "edits.jsonl")
            for t in TASKS
            for m in TARGETS.long_stream_methods()
        ],
        curves=[
            LAYOUT.sme_file(t, m, "long", "curve.jsonl")
            for t in TASKS
            for m in TARGETS.long_stream_methods()
        ],
    output:
        pdf=LAYOUT.figure("scale_stream", "pdf"),
        png=report(
            LAYOUT.figure("scale_stream", "png"),
            caption="../report/scale_stream.rst",
            category="SME figures",
            labels={"figure": "scale stream", "task": "all"},
        ),
    log:
        f"{LOGS}/figures/scale_stream.log",
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        **STAGE_PARAMS("fig_scale_stream"),
        code=STAGE_CODE("fig_scale_stream"),
    script:
        "../scripts/fig_scale_stream.py"
