# Stage 5: across-fold aggregation of the SME fold summaries and the paper tables (DESIGN §7, §11).
# Per (task, method) first, so adding a method or rerunning one fold job re-aggregates only that pair.


rule aggregate_sme_method:
    input:
        summaries=lambda wc: TARGETS.sme_fold_outputs(
            wc.task, wc.method, "summary.json"
        ),
    output:
        LAYOUT.method_table("sme", "{task}", "{method}"),
    log:
        f"{LOGS}/tables/sme_{{task}}_{{method}}.log",
    wildcard_constraints:
        task="fever|zsre",
        method=r"[A-Za-z0-9_]+",
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **STAGE_PARAMS("aggregate_sme"),
        code=STAGE_CODE("aggregate_sme"),
    script:
        "../scripts/aggregate_sme.py"


rule collect_sme:
    input:
        tables=TARGETS.sme_method_tables("sme"),
    output:
        report(
            LAYOUT.table("sme"),
            caption="../report/sme_csv.rst",
            category="SME tables",
        ),
        provenance=LAYOUT.table_provenance("sme"),
    log:
        f"{LOGS}/tables/sme.log",
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **STAGE_PARAMS("collect_tables"),
        code=STAGE_CODE("collect_tables"),
    script:
        "../scripts/collect_tables.py"


rule main_table:
    input:
        table=LAYOUT.table("sme"),
    output:
        md=LAYOUT.figure("table_main", "md"),
        tex=LAYOUT.figure("table_main", "tex"),
        html=report(
            LAYOUT.figure("table_main", "html"),
            caption="../report/table_main.rst",
            category="SME tables",
        ),
    log:
        f"{LOGS}/tables/table_main.log",
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **STAGE_PARAMS("render_table", kind="main"),
        code=STAGE_CODE("render_table"),
    script:
        "../scripts/render_table.py"


rule cost_sme_method:
    input:
        summaries=lambda wc: TARGETS.sme_fold_outputs(
            wc.task, wc.method, "summary.json"
        ),
        edits=lambda wc: TARGETS.sme_fold_outputs(wc.task, wc.method, "edits.jsonl"),
        benchmarks=lambda wc: TARGETS.sme_fold_benchmarks(wc.task, wc.method),
    output:
        LAYOUT.method_table("cost", "{task}", "{method}"),
    log:
        f"{LOGS}/tables/cost_{{task}}_{{method}}.log",
    wildcard_constraints:
        task="fever|zsre",
        method=r"[A-Za-z0-9_]+",
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **STAGE_PARAMS("cost_sme"),
        code=STAGE_CODE("cost_sme"),
    script:
        "../scripts/cost_sme.py"


rule collect_cost:
    input:
        tables=TARGETS.sme_method_tables("cost"),
    output:
        LAYOUT.table("cost"),
        provenance=LAYOUT.table_provenance("cost"),
    log:
        f"{LOGS}/tables/cost.log",
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **STAGE_PARAMS("collect_tables"),
        code=STAGE_CODE("collect_tables"),
    script:
        "../scripts/collect_tables.py"


rule cost_table:
    input:
        table=LAYOUT.table("cost"),
    output:
        md=LAYOUT.figure("table_cost", "md"),
        tex=LAYOUT.figure("table_cost", "tex"),
        html=report(
            LAYOUT.figure("table_cost", "html"),
            caption="../report/table_cost.rst",
            category="SME tables",
        ),
    log:
        f"{LOGS}/tables/table_cost.log",
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **STAGE_PARAMS("render_table", kind="cost"),
        code=STAGE_CODE("render_table"),
    script:
        "../scripts/render_table.py"
