# Hub models, tokenizers and datasets (editlab.hub): fetched into the Hugging Face cache by a local rule
# on the submit host before the GPU jobs that load them, which run with the hub offline (HF_HUB_OFFLINE=1,
# the job wrapper). A local directory in place of a hub id is recorded (path, content hash), not fetched.

if TARGETS.hub_items:

    localrules:
        prefetch_hub,

    rule prefetch_hub:
        output:
            LAYOUT.hub_marker("{role}"),
        log:
            f"{LOGS}/hub/{{role}}.log",
        wildcard_constraints:
            role=TARGETS.hub_role_re(),
        conda:
            "../../envs/torch.yaml"
        threads: 1
        resources:
            mem_mb=8000,
            runtime=240,
        params:
            **STAGE_PARAMS("prefetch_hub"),
            code=STAGE_CODE("prefetch_hub"),
        script:
            "../scripts/prefetch_hub.py"
