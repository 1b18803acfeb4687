# Quick start: `make reproduce` (install + default mini workflow), `make test` (install + tests).
SHELL := /bin/bash
VENV ?= .venv
CORES ?= all
ACT := . $(VENV)/bin/activate &&

.PHONY: install reproduce test lint report clean

install:
	bash scripts/install.sh

reproduce: install
	$(ACT) snakemake --cores $(CORES) --resources gpu=0

test: install
	$(ACT) bash scripts/lint.sh
	$(ACT) python -m pytest -n 2 --dist loadgroup

lint: install
	$(ACT) bash scripts/lint.sh

report: install
	$(ACT) snakemake --report report.html

clean:
	rm -rf results/mini figures/mini .snakemake logs
