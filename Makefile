# reintegrate: every entry point. `make test` is what CI runs (through .ci/run).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
export PATH := $(CURDIR)/.venv/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PYTHONDONTWRITEBYTECODE := 1
PYTEST := .venv/bin/pytest
MODULES := $(basename $(notdir $(wildcard library/*.py)))
PLAYBOOKS := $(wildcard playbooks/*.yml)
step = @printf '\n==> %s\n' "$(1)"

.PHONY: help setup venv docker base-image php lint test test-unit test-php test-twin test-integration test-faults \
        molecule up down up-real down-real test-real demo bench clean collection test-collection sanity-collection

help:
	@echo "make demo   - set up, start the sandbox stack, reinstall the example integration, say where the credentials went"
	@echo "make test   - every gate and every test suite (what CI runs)"
	@echo "make lint | test-unit | test-twin | test-integration | molecule | up | down | bench"
	@echo "make up-real MAGENTO_CODEBASE=DIR | down-real [PURGE=true] - your own Magento tree in Docker (stack reintegrate-real)"
	@echo "make test-real MAGENTO_CODEBASE=DIR - the integration and playbook tests against that tree (not in make test)"

setup: venv docker base-image php

venv:
	$(call step,Python virtual environment (.venv))
	@scripts/ensure-venv.sh

docker:
	$(call step,Docker engine)
	@scripts/ensure-docker.sh

base-image: docker
	$(call step,Base image debian:bookworm-slim)
	@scripts/ensure-base-image.sh

php:
	$(call step,PHP CLI for php -l and the helper module's test)
	@scripts/ensure-php.sh

lint: venv php
	$(call step,ruff)
	@ruff check . && ruff format --check .
	$(call step,Python 3.9 gate: library/ module_utils/ plugins/ run on the Magento host (3.9+))
	@vermin -t=3.9- --no-tips --violations -q library module_utils plugins \
	  || { echo "vermin: the code above needs a Python newer than 3.9 (README: target Pythons)" >&2; exit 1; }
	@.venv/bin/python scripts/check_target_python.py
	$(call step,yamllint)
	@yamllint -s .
	$(call step,ansible-playbook --syntax-check)
	@for p in $(PLAYBOOKS); do ansible-playbook --syntax-check "$$p" >/dev/null || exit 1; echo "ok  $$p"; done
	$(call step,ansible-doc of every module and callback)
	@for m in $(MODULES); do ansible-doc -M library "$$m" >/dev/null || exit 1; echo "ok  $$m"; done
	@for c in plugins/callback/*.py; do n=$$(basename "$$c" .py); \
	  ansible-doc -t callback "$$n" >/dev/null || exit 1; echo "ok  callback $$n"; done
	$(call step,ansible-lint (production profile, offline))
	@ansible-lint --offline --profile production -q
	$(call step,php -l)
	@bash tests/php/lint.sh

test-unit: venv
	$(call step,Unit tests)
	@$(PYTEST) -q tests/unit

test-php: php
	$(call step,PHP helper module behaviour test)
	@bash tests/php/run.sh

up: setup
	$(call step,Sandbox stack (playbooks/up.yml))
	@ansible-playbook playbooks/up.yml

down: venv
	@ansible-playbook playbooks/down.yml

# Your own Magento tree (after composer install) in Docker: flavor codebase, stack reintegrate-real on
# 127.0.0.1:8180 (DB 3307), next to the sandbox. The first start runs setup:install (minutes).
REAL_INVENTORY := playbooks/inventories/codebase/hosts.yml
up-real: setup
	$(call step,Real Magento stack from MAGENTO_CODEBASE=$(MAGENTO_CODEBASE) (playbooks/up.yml))
	@if [ -z "$(MAGENTO_CODEBASE)" ]; then \
	  echo "make up-real MAGENTO_CODEBASE=DIR: DIR is the root of your Magento tree (bin/magento, vendor/)" >&2; exit 2; fi
	@MAGENTO_CODEBASE="$(MAGENTO_CODEBASE)" ansible-playbook -i $(REAL_INVENTORY) playbooks/up.yml

down-real: venv
	@ansible-playbook -i $(REAL_INVENTORY) playbooks/down.yml $(if $(filter true,$(PURGE)),-e magento_stack_purge=true)

# The module integration tests and the playbook tests (tests/integration) against that real tree, in
# every activation mode and both config formats; not part of `make test` (CI has no Magento tree).
# Ends with one summary line; the playbook runs are tabled from .test-real/runs.jsonl.
test-real: up-real
	$(call step,Integration and playbook tests against the real Magento tree (stack reintegrate-real))
	@MAGENTO_CODEBASE="$(MAGENTO_CODEBASE)" scripts/test-real.sh

test-twin: up
	$(call step,Twin fidelity tests (tests/twin))
	@$(PYTEST) -q tests/twin

test-integration: up
	$(call step,Module integration tests against the live stack (tests/integration))
	@$(PYTEST) -q tests/integration

# Bad inputs and faults, each on a private stack of the sandbox's images (DB 13392, store 18092); a full
# passing run rewrites docs/reliability.md.
test-faults: up
	$(call step,Bad inputs and faults on a private stack (tests/faults))
	@$(PYTEST) -q tests/faults

# The collection reintegrate.magento, staged from library/, module_utils/, plugins/, roles/ and playbooks/
# in a temporary folder (scripts/build_collection.py): dist/reintegrate-magento-<version>.tar.gz.
COLLECTION_TARBALL := dist/reintegrate-magento-$(shell sed -n 's/^version: *//p' galaxy.yml).tar.gz
collection: venv
	$(call step,Collection reintegrate.magento (dist/))
	@.venv/bin/python scripts/build_collection.py --output-dir dist

# Installed with ansible-galaxy into a temporary collections path and used from a folder without our
# ansible.cfg: ansible-doc of every module and role by FQCN, a reinstall through FQCNs alone, the modules
# under Python 3.9, and the fleet example's way (runner local on a remote host, endpoint external), each on
# a private stack of the sandbox's images (DB 13492, store 18192, endpoint 18193). About 3 minutes.
test-collection: collection up
	$(call step,The installed collection through FQCNs alone (tests/collection))
	@REINTEGRATE_COLLECTION_TARBALL=$(COLLECTION_TARBALL) $(PYTEST) -q tests/collection

# ansible-test sanity on the staged collection, offline (not part of make test: about 3 minutes the first
# time, while it makes its virtual environments in .cache/ansible-test).
sanity-collection: venv
	$(call step,ansible-test sanity on the built collection)
	@scripts/sanity-collection.sh

molecule: setup
	$(call step,Molecule scenarios)
	@for f in molecule/*/molecule.yml; do s=$$(basename "$$(dirname "$$f")"); \
	  echo "--- molecule test -s $$s"; molecule test -s "$$s" || exit 1; done

test: setup lint test-unit test-php test-twin test-integration test-collection test-faults molecule
	$(call step,All gates and suites passed)

demo: up
	$(call step,Reinstall the example integration on the sandbox)
	@ansible-playbook playbooks/reinstall_integration.yml

# Options go through ARGS (make reads `make bench --fast` as its own option and refuses it):
#   make bench ARGS="--fast --skip-fleet"      (bench/reinstall.py --help lists them)
bench: up
	@.venv/bin/python bench/reinstall.py $(ARGS)

clean: down
	rm -rf .venv .credentials .backups
