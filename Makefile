# skyforge.labs — every target sets up what it needs, so a fresh machine only runs:
#   make demo   render an example lab (no cluster needed)
#   make test   unit, integration and webhook tests, ansible-test sanity, ansible-lint
SHELL := /bin/bash
PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt pyproject.toml | sha256sum | cut -c1-12)
COLLECTIONS := $(CURDIR)/.skyforge/collections
LINK := $(COLLECTIONS)/ansible_collections/skyforge/labs
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := false
export PATH := $(BIN):$(PATH)
DEMO_TOPOLOGY ?= examples/multi-vendor/topology.yml
PYTEST_ARGS ?=

.PHONY: demo test venv collection system-deps controlplane servers unit integration webhook-tests \
        sanity lint bench cluster-up cluster-down postgres-up postgres-down clean

venv: $(STAMP)
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

# ansible_collections/skyforge/labs must resolve to this checkout for ansible and pytest.
collection: $(LINK)
$(LINK):
	mkdir -p $(dir $(LINK))
	ln -sfn ../../../.. $(LINK)

system-deps:
	bash scripts/system-deps.sh

controlplane:
	bash scripts/controlplane.sh

servers:
	bash scripts/servers.sh

demo: venv collection
	$(BIN)/ansible-playbook -i inventories/local playbooks/lab_render.yml -e topology=$(DEMO_TOPOLOGY)

unit: venv collection
	$(BIN)/pytest -q tests/unit $(PYTEST_ARGS)

integration: venv collection system-deps controlplane servers
	$(BIN)/pytest -q tests/integration $(PYTEST_ARGS)

webhook-tests: venv collection system-deps controlplane
	$(BIN)/pytest -q tests/webhook $(PYTEST_ARGS)

sanity: venv
	bash scripts/sanity.sh

lint: venv collection
	$(BIN)/ansible-lint --offline --profile production

test: venv collection system-deps controlplane servers
	$(BIN)/pytest tests $(PYTEST_ARGS)
	bash scripts/sanity.sh
	$(BIN)/ansible-lint --offline --profile production

bench: venv collection controlplane servers
	bash scripts/bench.sh

# etcd, kube-apiserver and kube-controller-manager (garbage collector, namespace controller);
# MANAGER=v0.6 or MANAGER=v0.8 also starts that real Clabernetes manager beside them.
cluster-up: venv collection controlplane
	$(BIN)/python tests/controlplane/cluster.py up --dir .cluster --crds $(CLUSTER_ARGS)
	$(if $(MANAGER),$(BIN)/python tests/controlplane/manager.py up --dir .cluster --version $(MANAGER))

cluster-down:
	-$(BIN)/python tests/controlplane/manager.py down --dir .cluster
	$(BIN)/python tests/controlplane/cluster.py down --dir .cluster

# a throwaway PostgreSQL for trying the service's postgresql:// store by hand (URL in
# .postgres/url); the tests start their own
postgres-up: system-deps
	bash scripts/postgres.sh up

postgres-down:
	bash scripts/postgres.sh down

clean:
	rm -rf out .skyforge .pytest_cache tests/output
