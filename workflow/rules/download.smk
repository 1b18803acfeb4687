# Stage 1 for the paper profile: the real FEVER / zsRE files, written exactly where LAYOUT.data_files(task)
# says. data.source = cao: ingest the authors' data.zip or the Cao/MEND release from a local path
# (data.cao.path), or download the MEND release from Google Drive (data.cao.path unset);
# data.source = kilt: download the KILT originals and rebuild `rephrases` by back-translation.
# (data.source = mini is workflow/rules/data.smk.) Downloads and ingestion run on the submit host.


if TARGETS.data_source() == "cao":

    localrules:
        ingest_cao,

    if TARGETS.cao_downloads():

        localrules:
            download_cao,

        rule download_cao:
            output:
                file=LAYOUT.cao_download("{name}"),
                source=LAYOUT.cao_download("{name}.source.json"),
            log:
                f"{LOGS}/data/download_cao_{{name}}.log",
            wildcard_constraints:
                name=TARGETS.cao_name_re(),
            conda:
                "../../envs/torch.yaml"
            threads: 1
            resources:
                mem_mb=1000,
                runtime=120,
            params:
                **STAGE_PARAMS("download_cao"),
                code=STAGE_CODE("download_cao"),
            script:
                "../scripts/download_cao.py"

    rule ingest_cao:
        # The archive (or release folder), any data.files and the downloaded files are inputs: a missing one
        # fails the dry run (or is downloaded), a replaced one reruns the ingest
        # (editlab.stages.ingest_cao.ingest_sources).
        input:
            **TARGETS.ingest_sources(),
        output:
            # data_files of both tasks, keyed fever_train ... zsre_dev like editlab.layout.CAO_FILES
            **{
                f"{t}_{k.removesuffix('_data')}": p
                for t in TASKS
                for k, p in LAYOUT.data_files(t).items()
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
            **STAGE_PARAMS("ingest_cao"),
            code=STAGE_CODE("ingest_cao"),
        script:
            "../scripts/ingest_data.py"


if TARGETS.data_source() == "kilt":

    localrules:
        download_kilt,

    rule download_kilt:
        output:
            LAYOUT.kilt_file("{name}"),
        log:
            f"{LOGS}/data/download_{{name}}.log",
        wildcard_constraints:
            name=TARGETS.kilt_name_re(),
        conda:
            "../../envs/torch.yaml"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=120,
        params:
            **STAGE_PARAMS("download_file"),
            code=STAGE_CODE("download_file"),
        script:
            "../scripts/download_file.py"

    rule backtranslate_fever:
        input:
            kilt=LAYOUT.kilt_file("fever-{split}-kilt.jsonl"),
            hub=TARGETS.hub_markers("backtranslate_forward", "backtranslate_backward"),
        output:
            LAYOUT.data_file("fever", "{split}"),
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
            **STAGE_PARAMS("backtranslate"),
            code=STAGE_CODE("backtranslate"),
        script:
            "../scripts/backtranslate_kilt.py"

    use rule backtranslate_fever as backtranslate_zsre with:
        input:
            kilt=LAYOUT.kilt_file("structured_zeroshot-{split}-kilt.jsonl"),
            hub=TARGETS.hub_markers("backtranslate_forward", "backtranslate_backward"),
        output:
            LAYOUT.data_file("zsre", "{split}"),
        log:
            f"{LOGS}/data/backtranslate_zsre_{{split}}.log",
        benchmark:
            f"{BENCH}/data/backtranslate_zsre_{{split}}.tsv"
