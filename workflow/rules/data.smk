# Stage 1: the raw task files in the real Cao formats (mini: generated offline).


# Real sources (cao, kilt) are produced by workflow/rules/download.smk instead.
if config["data"]["source"] == "mini":

    rule mini_data:
        output:
            **{
                f"{t}_{k.removesuffix('_data')}": p
                for t in TASKS
                for k, p in data_files(t).items()
            },
            world=LAYOUT.world(),
        log:
            f"{LOGS}/data/mini_data.log",
        benchmark:
            f"{BENCH}/data/mini_data.tsv"
        conda:
            "../../envs/torch.yaml"
        threads: 1
        params:
            # config values as params so that changing them reruns the rule (and everything downstream)
            mini=config["data"].get("mini"),
            seed=config["seed"],
            code=STAGE_CODE("mini_data"),
        script:
            "../scripts/mini_data.py"
