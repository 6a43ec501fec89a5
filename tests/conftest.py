"""Shared fixtures: paths to the sample data, an in-process `cchc` runner, and the `slow` marker
(slow tests run only with `--run-slow` or CCHC_RUN_SLOW=1)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

# Tests that check wording check the English catalogue-free texts unless they ask for Vietnamese
# (the default for a user): the language is read from the environment, as gettext reads it.
ENGLISH = {"LANG": "en_US.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}
VIETNAMESE = {"LANG": "vi_VN.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}
os.environ.update(ENGLISH)


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run tests marked slow (large runs measured in minutes)")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a long run, skipped unless --run-slow or CCHC_RUN_SLOW=1")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow") or os.environ.get("CCHC_RUN_SLOW"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow or CCHC_RUN_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def sample_criteria_path() -> Path:
    return DATA / "sample-criteria.yaml"


@pytest.fixture
def cchc():
    """Run the command line in this process: `cchc("score", crit, ev, "--out", out)` returns the
    result with `.exit_code`, `.stdout` and `.stderr`."""
    from typer.testing import CliRunner

    from cli import app

    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, [str(a) for a in args])

    return run
