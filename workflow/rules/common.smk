# Shared objects of the rules. Every output lives under results/{name}/ (DESIGN §11). The rules ask the
# library for what they need to know (docs/scaling.md, "Params and targets"); none is kept here.

from editlab.layout import TASKS, Layout
from editlab.stages import StageCode
from editlab.stages.params import StageParams
from editlab.stages.schedule import job_priority
from editlab.stages.targets import Targets

# Every path comes from the library's layout (editlab.layout); LOGS and BENCH are its trees for log/benchmark lines.
LAYOUT = Layout.from_config(config)
LOGS = LAYOUT.logs()
BENCH = LAYOUT.bench()
# Method lists, stage inputs and the target lists of `rule all` (editlab.stages.targets).
TARGETS = Targets(config, LAYOUT)
# params of a rule: the config values its stage's jobs read (editlab.stages.params), so that changing
# one reruns exactly the jobs that read it (Snakemake's params rerun trigger).
STAGE_PARAMS = StageParams(config, TARGETS)
# params.code of a rule: the digest of its stage's import closure (editlab.stages.codedeps), so that any
# change of code a job imports, and only that, reruns it.
STAGE_CODE = StageCode(SRC)
NMT_TASK_RE = "hallucination|memorised|copy|mistranslation"
