"""Shared fixtures: paths to the sample data, an in-process `cchc` runner, and the `slow` marker
(slow tests run only with `--run-slow` or CCHC_RUN_SLOW=1)."""
from __future__ import annotations

import gc
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


# The test files that take longest, longest first (as measured in a whole run on this 2-core machine:
# the first about 25 s of CPU, the last named about 1.5 s; the others less). With `-n 2 --dist loadfile` a file runs whole on
# one worker, in the order collected: started first, the long files end before the short ones, and the
# two workers finish close together instead of one running a long file alone at the end. Files not
# named here follow, as collected: a new test file that takes long belongs in this list.
LONGEST_FIRST = (
    "test_shipped.py", "test_differential.py", "test_fast_paths.py", "test_web_serve.py", "test_cli_core.py",
    "test_bundle.py", "test_properties.py", "test_yaml_plain_lines.py", "test_performance.py",
    "test_web_browser_round.py", "test_fuzz_results.py", "test_decide_quick.py", "test_language.py",
    "test_cpu_yaml_lines.py", "test_web_round.py", "test_results_quick_schema.py", "test_outputs.py",
    "test_office_reports.py", "test_decide_integers.py", "test_scale_bookkeeping.py", "test_csvread_fast_paths.py",
    "test_scoreio_files.py", "test_reports_browser.py", "test_hostile_inputs.py", "test_round_bundle_memory.py",
    "test_web_browser.py", "test_streaming.py", "test_cpu_paths.py", "test_csv_fast_paths.py", "test_web_scoring.py",
    "test_read_fast_paths.py", "test_decide_fast_paths.py", "test_web_security.py", "test_archive.py",
    "test_intake.py", "test_tests_option_values.py", "test_yaml_fast_paths.py", "test_fuzz_loaders.py",
    "test_cpu_typing.py", "test_round_pool.py", "test_round.py", "test_web_lock.py", "test_round_output.py",
    "test_round_workers.py", "test_round_sharing.py", "test_validation.py",
)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a long run, skipped unless --run-slow or CCHC_RUN_SLOW=1")
    if getattr(config.option, "dist", "no") == "loadfile":
        config.option.loadscopereorder = False  # xdist would put the files with most tests first


def _one_click_command_per_app() -> None:
    """typer's `CliRunner.invoke(app, ...)` builds the app's click command anew from the functions'
    signatures for every call (16 ms of CPU each, the in-process runs of the suite's commands over a
    thousand). A process that runs `cchc` builds it once; so do the tests now: one command per app,
    built again only when the app's commands change. What a command does with its arguments is the
    same; what a run sets on the command's parameters (their conversion, `commands.option_values`)
    stays for the next run, as it would in one process: a test that changes that conversion between
    two runs builds its own command (tests/test_tests_option_values.py). Installed once the test
    modules are imported: `cli` first, which has click and typer speak the reader's language before
    they are imported (commands/language.py)."""
    import cli  # noqa: F401
    import typer.testing
    from typer.main import get_command

    built: dict[int, tuple] = {}

    def command_of(app):
        shape = (app.registered_callback, tuple(map(id, app.registered_commands)), tuple(map(id, app.registered_groups)))
        held = built.get(id(app))
        if held is None or held[0] is not app or held[1] != shape:
            held = built[id(app)] = (app, shape, get_command(app))
        return held[2]

    typer.testing._get_command = command_of


def pytest_collection_finish(session):
    """What collection imported (the engine, Django, Hypothesis, the test modules) lives as long as the
    process: set apart from the cycle collector (`gc.freeze`), so that the collections the tests cause
    do not walk it again each time (the collector's time in two property-test files: 1.8 s to 1.3 s).
    The collector then runs after 20,000 new objects rather than 700 (and each older generation after
    20 collections of the younger, not 10), as the engine's own pieces do (`fewer_collections`): the
    property tests make millions of small objects, hardly any in a cycle (the differential test on 300
    sets, three runs each: 9.1 s of CPU on average to 8.1 s)."""
    _one_click_command_per_app()
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file's tests keep their order
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


@pytest.fixture
def pieces_read_at(monkeypatch):
    """`pieces_read_at(places)`: a round's pieces read and decided by the workers `places` names,
    piece by piece, rather than by whichever is free first, and none taken back. Which process
    decides what is then the test's, not a matter of timing."""
    from engine.round import pool as pool_module

    stream = pool_module.Workers.stream

    def place(places: list[int]) -> None:
        def placed(self, task, chunks, ahead=4, places=None, ran=None, depth=3, claims=None, beside=None):
            if task == "read_decide_piece":
                places, claims = fixed, None
            return stream(self, task, chunks, ahead, places=places, ran=ran, depth=depth, claims=claims, beside=beside)

        fixed = list(places)
        monkeypatch.setattr(pool_module.Workers, "stream", placed)

    return place
