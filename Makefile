# Two entry points for a newcomer: `make demo` and `make test`. Both build .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench
# Checked strictly by mypy (pyproject.toml); more packages join as their typing is finished.
TYPED := annotator/annotation annotator/engine annotator/formats annotator/video annotator/quality

# SAM 2.1's package builds against torch: torch first, then sam2 (pinned by hash, no build
# isolation, its optional CUDA extension off), then everything else.
$(STAMP): setup.cfg pyproject.toml constraints.txt requirements-sam2.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt setuptools torch torchvision
	SAM2_BUILD_CUDA=0 $(BIN)/python -m pip install -q --no-build-isolation --no-deps \
		--require-hashes -r requirements-sam2.txt
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

# The app edits a scratch copy, so the bundled clip stays as shipped.
demo: $(STAMP)
	test -d .demo || cp -r resources/demo .demo
	$(BIN)/python main.py .demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m mypy $(TYPED)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m mypy $(TYPED)
