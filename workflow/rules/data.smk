# Stage 1: the raw task files in the real Cao formats (mini: generated offline).


# Real sources (cao, kilt) are produced by workflow/rules/download.smk instead.
if TARGETS.data_source() == "mini":

    rule mini_data:
        output:
            **{
                f"{t}_{k.removesuffix('_data')}": p
                for t in TASKS
                for k, p in LAYOUT.data_files(t).items()
            },
            world=LAYOUT.world(),
        log:
            f"{LOGS}/data/mini_data.log",
        benchmark:
            f"{BENCH}/data/mini_data.tsv"
        priority: job_priority("mini_data")
        conda:
            "../../envs/torch.yaml"
        threads: 1
        params:
            **STAGE_PARAMS("mini_data"),
            code=STAGE_CODE("mini_data"),
        script:
            "../scripts/mini_data.py"
