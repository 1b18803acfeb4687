# Stage 1: the raw task files in the real Cao formats (mini: generated offline).


# Real sources (cao, kilt) are produced by workflow/rules/download.smk instead.
if config["data"]["source"] == "mini":

    rule mini_data:
        input:
            library("data/mini_world.py"),
        output:
            fever_train=f"{RESULTS}/data/fever/fever-train-kilt.jsonl",
            fever_dev=f"{RESULTS}/data/fever/fever-dev-kilt.jsonl",
            zsre_train=f"{RESULTS}/data/zsre/structured_zeroshot-train-new_annotated_final.jsonl",
            zsre_dev=f"{RESULTS}/data/zsre/structured_zeroshot-dev-new_annotated_final.jsonl",
            world=f"{RESULTS}/data/world.json",
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
        script:
            "../scripts/mini_data.py"
