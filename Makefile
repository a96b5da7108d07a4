# Two entry points for a fresh machine: `make run` serves Cocreate, `make test` runs every test.
VENV    ?= .venv
PYTHON  ?= python3
STAMP   := $(VENV)/.installed

.PHONY: run test setup system-deps bench lock

run: $(STAMP)
	$(VENV)/bin/cocreate serve

test: $(STAMP) system-deps
	COCREATE_NO_SKIP=1 $(VENV)/bin/pytest $(PYTEST_ARGS)

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[test,scale]'
	touch $(STAMP)

# Real servers, a real browser and a Chinese font for the tests, from Debian's packages (needs root, or sudo).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing="$$missing fonts-wqy-microhei"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

bench: $(STAMP)
	for script in bench/[!_]*.py; do $(VENV)/bin/python $$script || exit 1; done

# Refresh the pinned versions after changing pyproject.toml's ranges.
lock:
	$(PYTHON) -m venv /tmp/cocreate-lock && /tmp/cocreate-lock/bin/pip install --quiet -e '.[test,scale]' && \
	/tmp/cocreate-lock/bin/pip freeze --exclude-editable | grep -v '^cocreate' > constraints.txt
