# Stage 2: seeded splits persisted as id lists (DESIGN §4), then the edit folds.


rule splits:
    output:
        **split_files("{task}"),
    input:
        unpack(lambda wc: data_files(wc.task)),
        code=library("data/splits.py", "data/readers.py"),
    params:
        split=lambda wc: config["splits"][wc.task],
        seed=config["seed"],
    log:
        f"{LOGS}/splits/{{task}}.log",
    wildcard_constraints:
        task="fever|zsre",
    threads: 1
    conda:
        "../../envs/torch.yaml"
    script:
        "../scripts/make_splits.py"


rule fold:
    output:
        f"{RESULTS}/splits/{{task}}/fold{{k}}.txt",
    input:
        edit=f"{RESULTS}/splits/{{task}}/edit.txt",
        code=library("data/splits.py"),
    params:
        n_folds=lambda wc: config["splits"][wc.task]["n_folds"],
        seed=config["seed"],
    log:
        f"{LOGS}/splits/{{task}}_fold{{k}}.log",
    wildcard_constraints:
        task="fever|zsre",
        k=r"\d+",
    threads: 1
    conda:
        "../../envs/torch.yaml"
    script:
        "../scripts/make_fold.py"
