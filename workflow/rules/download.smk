# Stage 1 for the paper profile: the real FEVER / zsRE files, written exactly where data_files(task)
# says. data.source = cao: ingest the authors' data.zip or the Cao/MEND release from a local path;
# data.source = kilt: download the KILT originals and rebuild `rephrases` by back-translation.
# (data.source = mini is workflow/rules/data.smk.) Downloads and ingestion run on the submit host.


if config["data"]["source"] == "cao":

    localrules:
        ingest_cao,

    rule ingest_cao:
        input:
            code=library("data/ingest.py", "data/readers.py", "data/download.py"),
        output:
            # data_files of both tasks, keyed fever_train ... zsre_dev like editlab.data.ingest.CAO_FILES
            **{
                f"{t}_{k.removesuffix('_data')}": p
                for t in TASKS
                for k, p in data_files(t).items()
            },
        log:
            f"{LOGS}/data/ingest_cao.log",
        conda:
            "../../envs/torch.yaml"
        threads: 1
        resources:
            mem_mb=4000,
            runtime=30,
        params:
            data=config["data"],
        script:
            "../scripts/ingest_data.py"


if config["data"]["source"] == "kilt":

    localrules:
        download_kilt,

    KILT_FILES = config["data"]["kilt"]["files"]

    rule download_kilt:
        input:
            code=library("data/download.py"),
        output:
            f"{RESULTS}/data/kilt/{{name}}",
        log:
            f"{LOGS}/data/download_{{name}}.log",
        wildcard_constraints:
            name="|".join(n.replace(".", r"\.") for n in KILT_FILES),
        conda:
            "../../envs/torch.yaml"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=120,
        params:
            url=lambda wc: KILT_FILES[wc.name]["url"],
            sha256=lambda wc: KILT_FILES[wc.name].get("sha256"),
            download=config["data"].get("download", {}),
        script:
            "../scripts/download_file.py"

    rule backtranslate_fever:
        input:
            kilt=f"{RESULTS}/data/kilt/fever-{{split}}-kilt.jsonl",
            code=library("data/backtranslate.py", "gpu.py", "runtime.py"),
        output:
            f"{RESULTS}/data/fever/fever-{{split}}-kilt.jsonl",
        log:
            f"{LOGS}/data/backtranslate_fever_{{split}}.log",
        benchmark:
            f"{BENCH}/data/backtranslate_fever_{{split}}.tsv"
        wildcard_constraints:
            split="train|dev",
        conda:
            "../../envs/torch.yaml"
        threads: 2
        resources:
            gpu=1,
            mem_mb=16000,
            runtime=720,
        params:
            backtranslate=config["data"].get("backtranslate", {}),
        script:
            "../scripts/backtranslate_kilt.py"

    use rule backtranslate_fever as backtranslate_zsre with:
        input:
            kilt=f"{RESULTS}/data/kilt/structured_zeroshot-{{split}}-kilt.jsonl",
            code=library("data/backtranslate.py", "gpu.py", "runtime.py"),
        output:
            f"{RESULTS}/data/zsre/structured_zeroshot-{{split}}-new_annotated_final.jsonl",
        log:
            f"{LOGS}/data/backtranslate_zsre_{{split}}.log",
        benchmark:
            f"{BENCH}/data/backtranslate_zsre_{{split}}.tsv"
