# home-dispatch: `make serve` runs the service, `make test` runs the tests.
# Both create .venv first (with $(PYTHON)) and reinstall only when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CONFIG ?= config/dispatch.toml

.PHONY: venv serve test proto bench clean distclean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[dev]'
	touch $@

serve: venv
	$(PY) server.py --config $(CONFIG)

# pytest's exit status 5 means it collected no tests; that is a failure here, said plainly.
test: venv
	@echo "$(PY) -m pytest $(PYTEST_ARGS)"
	@$(PY) -m pytest $(PYTEST_ARGS) || { rc=$$?; \
		if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit status 5)" >&2; fi; \
		exit $$rc; }

# Regenerate the committed stubs under proto/homedispatch/ from the .proto files.
proto: venv
	$(PY) proto/generate.py

bench: venv
	$(PY) benchmarks/dispatch_round.py

# The instant-dispatch stream on the memory store and on Redis (a redis-server it starts).
.PHONY: bench-store
bench-store: venv
	$(PY) benchmarks/store.py

# Instant dispatch over gRPC against a server (its own process) with 20,000 workers, beside a
# trivial RPC as the transport's ceiling; pass options with LOAD_ARGS, e.g. LOAD_ARGS=--quick.
.PHONY: bench-load
bench-load: venv
	$(PY) benchmarks/load.py $(LOAD_ARGS)

# Public VRPTW instances against the best-known, beside OR-Tools' sample, VROOM and PyVRP
# (the `bench` extra). Needs ../shared/benchmarks or HOME_DISPATCH_BENCHMARKS; pass options
# with VRPTW_ARGS, e.g. make bench-vrptw VRPTW_ARGS="--jobs 2 --limits 5".
.PHONY: bench-vrptw
bench-vrptw: $(VENV)/.bench-installed
	$(PY) benchmarks/vrptw.py $(VRPTW_ARGS)

$(VENV)/.bench-installed: $(STAMP)
	$(PY) -m pip install -e '.[dev,bench]'
	touch $@

# Home-care routing on the real-city HHCRSP instances against the best-known (no extra
# packages). Needs ../shared/benchmarks or HOME_DISPATCH_BENCHMARKS; pass options with
# HHCRSP_ARGS, e.g. make bench-hhcrsp HHCRSP_ARGS="--jobs 2 --time-limit 5 --instances 010,toy".
.PHONY: bench-hhcrsp
bench-hhcrsp: venv
	$(PY) benchmarks/hhcrsp.py $(HHCRSP_ARGS)

# Caches and build output; `distclean` also removes the virtualenv.
clean:
	rm -rf build dist *.egg-info .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -print -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
