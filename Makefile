# plan-analysis: two commands do everything on a fresh machine with python3 (3.11+) and make.
#   make report   render every notebook to HTML under reports/ (reports/index.html links them)
#   make test     run every test, notebooks included
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CORPUS ?= data/raw

.PHONY: all report test lab venv clean screenshots

all: test

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)

report: $(STAMP)
	$(PY) -m plan_analysis report --corpus $(CORPUS) --out reports

test: $(STAMP)
	$(PY) -m pytest -p no:cacheprovider --nbmake notebooks tests plan_analysis

screenshots: $(STAMP)
	$(PY) -c "from plan_analysis.report import screenshot as s; import glob; [print(s(p, 'reports/screenshots/' + p.split('/')[-1][:-5] + '.png')) for p in ['reports/index.html'] + sorted(glob.glob('reports/10_township_profile-0[12].html'))]"

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks

clean:
	rm -rf reports data/processed .pytest_cache .hypothesis
