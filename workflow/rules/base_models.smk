# Stage 3: the base models to be edited (DESIGN §5): FEVER fact checker, zsRE seq2seq QA.


rule base_model:
    input:
        unpack(lambda wc: data_files(wc.task)),
        unpack(lambda wc: split_files(wc.task)),
        code=library(
            "models/build.py",
            "models/train.py",
            "models/pipeline.py",
            "tasks/__init__.py",
            "tasks/fever.py",
            "tasks/zsre.py",
            "models/tokenizer.py",
            "provenance.py",
        ),
    output:
        model=directory(f"{RESULTS}/base/{{task}}/model"),
        metrics=f"{RESULTS}/base/{{task}}/metrics.json",
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
    script:
        "../scripts/train_base.py"
