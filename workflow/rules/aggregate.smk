# Stage 5: across-fold aggregation of the SME fold summaries and the paper tables (DESIGN §7, §11).
# Per (task, method) first, so adding a method or rerunning one fold job re-aggregates only that pair.


rule aggregate_sme_method:
    input:
        summaries=lambda wc: sme_fold_outputs(wc.task, wc.method, "summary.json"),
        code=library(
            "results/aggregate.py",
            "results/fold_outputs.py",
            "results/intervals.py",
            "results/settings.py",
        ),
    output:
        f"{RESULTS}/tables/sme/{{task}}/{{method}}.csv",
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
        report=report_section(),
    script:
        "../scripts/aggregate_sme.py"


rule collect_sme:
    input:
        tables=sme_method_tables("sme"),
        code=library("results/aggregate.py", "provenance.py"),
    output:
        report(
            f"{RESULTS}/tables/sme.csv",
            caption="../report/sme_csv.rst",
            category="SME tables",
        ),
        provenance=f"{RESULTS}/tables/sme.provenance.json",
    log:
        f"{LOGS}/tables/sme.log",
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/collect_tables.py"


rule main_table:
    input:
        table=f"{RESULTS}/tables/sme.csv",
        code=library("results/tables.py"),
    output:
        md=f"{FIGURES}/table_main.md",
        tex=f"{FIGURES}/table_main.tex",
        html=report(
            f"{FIGURES}/table_main.html",
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
        kind="main",
        methods=sme_methods(),
        tasks=TASKS,
        profile=NAME,
    script:
        "../scripts/render_table.py"


rule cost_sme_method:
    input:
        summaries=lambda wc: sme_fold_outputs(wc.task, wc.method, "summary.json"),
        edits=lambda wc: sme_fold_outputs(wc.task, wc.method, "edits.jsonl"),
        benchmarks=lambda wc: sme_fold_benchmarks(wc.task, wc.method),
        code=library(
            "results/aggregate.py",
            "results/fold_outputs.py",
            "results/intervals.py",
            "results/settings.py",
        ),
    output:
        f"{RESULTS}/tables/cost/{{task}}/{{method}}.csv",
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
        report=report_section(),
    script:
        "../scripts/cost_sme.py"


rule collect_cost:
    input:
        tables=sme_method_tables("cost"),
        code=library("results/aggregate.py", "provenance.py"),
    output:
        f"{RESULTS}/tables/cost.csv",
        provenance=f"{RESULTS}/tables/cost.provenance.json",
    log:
        f"{LOGS}/tables/cost.log",
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/collect_tables.py"


rule cost_table:
    input:
        table=f"{RESULTS}/tables/cost.csv",
        code=library("results/tables.py"),
    output:
        md=f"{FIGURES}/table_cost.md",
        tex=f"{FIGURES}/table_cost.tex",
        html=report(
            f"{FIGURES}/table_cost.html",
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
        kind="cost",
        methods=sme_methods(),
        tasks=TASKS,
        profile=NAME,
    script:
        "../scripts/render_table.py"
