"""A round's workers started first thing, before the command line is even read and before this
program imports anything: on Linux forked from this process (`forks`: no new Python to start, and
no resource-tracker process beside them), elsewhere spawned, so that their start-up (the engine
imported) runs beside this process's own (the command-line libraries, the engine, the options,
the criteria set) rather than after it. `cchc round` adopts them
(engine.round.pool.Workers' `ahead`); started for nothing (a usage error, `--help`), they end
with this process. Only the standard library is imported here, and only the arguments are
looked at: whatever they say, the workers that run are the ones the parsed options ask for
(one started ahead and not wanted is ended unused). The first also cuts the evidence the
arguments name into pieces and reads the two the round will send it first, while this process
starts (engine.round.run.index_ahead, read_ahead): the round takes them only if they are its own."""
from __future__ import annotations

import atexit
import os
import sys
from typing import Any, Optional, Sequence

_AHEAD: list[Any] = []  # the executors started ahead, each of one spawned process, until `taken`
_INDEXED: list[Any] = []  # the future of the evidence's pieces the first of them cut, until `indexed`
_LEAVING: list[bool] = []  # this process is a `cchc round` started from the command line (`start`)
_BEGUN: list[bool] = []  # the command's own body runs (`begun`)
_STOPPABLE: list[bool] = []  # a stop (Ctrl-C, SIGTERM) is taken by `_interrupted` (`start`)
_STOPPING: list[bool] = []  # a stop was taken: the run is ending (`_interrupted`)


class _Named:
    """`module.name(*args)`, the function named rather than imported (a spawned process imports it,
    this one need not): what a process started ahead runs. What it gives comes back pickled: the
    executor's thread of this process takes it in while this process may still be importing the
    engine, and unpickling engine objects there would import the engine's modules on two threads
    at once (a module half made, or a deadlock). It is unpickled where it is asked for (`_Given`)."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self, *args: Any) -> bytes:
        import importlib
        import pickle

        return pickle.dumps(getattr(importlib.import_module(self.module), self.name)(*args), pickle.HIGHEST_PROTOCOL)


class _Given:
    """The future of a `_Named` task, whose result is unpickled by the thread that asks for it."""

    def __init__(self, future: Any):
        self._future = future

    def result(self, timeout: Optional[float] = None) -> Any:
        import pickle

        return pickle.loads(self._future.result(timeout))


def _imported(*modules: str) -> None:
    """Import what a round's worker runs, while it waits to be adopted."""
    import importlib

    for module in modules:
        importlib.import_module(module)


def round_workers(argv: Sequence[str]) -> Optional[int]:
    """The workers a `cchc round` command line asks for (`-j N`, `--workers N`, none: one per
    core), or None when it is no round, asks for help, or cannot be told without parsing it."""
    if len(argv) < 2 or argv[1] != "round":
        return None
    workers: Optional[int] = 0
    args = list(argv[2:])
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg in ("--help", "-h"):
            return None
        for option in ("--workers", "-j"):
            if arg == option:
                workers = _count(args[i + 1] if i + 1 < len(args) else "")
            elif arg.startswith(option + "=") or (option == "-j" and arg.startswith("-j") and len(arg) > 2):
                workers = _count(arg[len(option) + (arg[len(option)] == "="):])
    if workers is None:
        return None
    return workers or os.cpu_count() or 1


def _count(text: str) -> Optional[int]:
    return int(text) if text.isdigit() else None


# `cchc round`'s options that take a value, and those that take none (cli.py's `round_`)
_VALUED = ("--evidence", "--appraisal", "--survey", "--previous", "--out", "-o", "--engine", "-e", "--workers", "-j",
           "--rows", "--archive", "--previous-year", "--bundle", "--sign", "--max-cited-mb")
_FLAGS = ("--no-survey",)


def round_inputs(argv: Sequence[str]) -> Optional[tuple[str, tuple[str, ...]]]:
    """The criteria set and evidence paths a `cchc round` command line names, or None when they
    cannot be told for sure without parsing it (an option not known here, no evidence, not one
    criteria set). Only a guess to read ahead on: what is read with it is used only if the round's
    own criteria set and pieces of evidence turn out the same (engine.round.pool.index_ahead)."""
    if round_workers(argv) is None:
        return None
    positional: list[str] = []
    evidence: list[str] = []
    args = list(argv[2:])
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            positional += args[i:]
            break
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            continue
        name, equals, value = arg.partition("=")
        if name in _FLAGS and not equals:
            continue
        if name not in _VALUED:
            if name[:2] in ("-o", "-e", "-j") and not name.startswith("--"):  # -oOUT, -j2
                continue
            return None
        if not equals:
            if i == len(args):
                return None
            value = args[i]
            i += 1
        if name == "--evidence":
            evidence.append(value)
    if len(positional) != 1 or not evidence:
        return None
    return positional[0], tuple(evidence)


# what a round's worker runs: imported by a spawned worker while it waits, or before forking one
_WORKER_MODULES = ("rules", "engine.round.run", "engine.round.units", "engine.storage.bundle")


def forks(argv: Sequence[str]) -> bool:
    """Whether the worker the round `argv` asks for is forked rather than spawned (`start`): on
    Linux, for one worker, from a process of one thread (a second fork would copy a process
    whose first executor runs a thread of its own)."""
    import threading

    return sys.platform.startswith("linux") and round_workers(argv) == 2 and threading.active_count() == 1


def start(argv: Sequence[str], *, command_line: bool = False, first_thing: bool = False) -> None:
    """Start the workers of the round `argv` asks for (one fewer than its workers: this process
    is worker 0): forked from this process (`forks`) or spawned, each importing what it runs
    (forked later than first thing, once that is imported here); not inside a worker, and only
    once. `command_line`: `argv` is this process's own (the `cchc` program, not a caller of the
    library): a round that succeeds then ends it at once (`leave`). `first_thing`: called before
    this program imports anything (a worker forked then imports the engine beside this process,
    which imports it too)."""
    workers = round_workers(argv)
    if command_line and (workers is not None or list(argv[1:2]) == ["score"]) and not _STOPPABLE:
        _STOPPABLE.append(True)  # a round or a score, which write an output folder as they go
        import signal

        signal.signal(signal.SIGINT, _interrupted)
        signal.signal(signal.SIGTERM, _interrupted)  # (a worker ends at once: engine.round.pool._start_worker)
    if command_line and workers is not None and not _LEAVING:
        _LEAVING.append(True)
    fork = workers == 2 and forks(argv)  # (`forks` looked at only for a round of two workers)
    if workers is None or workers < 2 or _AHEAD:
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if multiprocessing.parent_process() is not None:
        return
    inputs = round_inputs(argv)
    if fork and not first_thing:
        _imported(*_WORKER_MODULES)
        import gc

        # what is alive now is left out of collections from here on, in both processes: a collection
        # walking it would write to each object's header and so copy, in each process, the pages
        # the fork lets them share
        gc.freeze()
    import signal
    import types

    main = sys.modules.get("__main__")
    if not fork:
        # what multiprocessing.spawn looks at to find this program's main module: none, so that a
        # spawned process does not import the whole command line (engine.round.pool._no_main)
        sys.modules["__main__"] = types.ModuleType("__main__")
    # Ctrl-C and SIGTERM blocked while the workers start, as engine.core.stops.stops_held does
    # (not imported yet: it would import the engine): a stop would leave one half started, and each
    # starts with them blocked until its own handlers are set. First thing, this process runs no
    # other thread, and the threads the executors start keep them blocked: a stop waits for the
    # block's end, and is then taken by this thread. (multiprocessing's resource tracker, which
    # spawned processes need, unblocks them in the thread that starts it: it is started first.)
    if not fork:
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()
    blocks = hasattr(signal, "pthread_sigmask")
    stops = signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGINT, signal.SIGTERM)) if blocks else None
    try:
        for worker in range(1, workers):
            pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork" if fork else "spawn"),
                                       initializer=_Named("engine.round.pool", "_start_worker"),
                                       initargs=(os.getpid(), None))
            if inputs is not None and worker == 1:  # the evidence cut into pieces, and the first two the round sends it
                criteria, evidence = inputs
                _INDEXED.append(pool.submit(_Named("engine.round.run", "index_ahead"), evidence))
                pool.submit(_Named("engine.round.run", "read_ahead"), criteria, (0, 1))
            pool.submit(_imported, *_WORKER_MODULES)  # (forked after the imports here: imported already)
            _AHEAD.append(pool)
    finally:
        if main is not None:
            sys.modules["__main__"] = main
        if blocks:
            signal.pthread_sigmask(signal.SIG_SETMASK, stops)
    import threading

    # before the executors' own exit, which would wait for their process to finish starting
    getattr(threading, "_register_atexit", atexit.register)(_end_unused)


def _end_unused(at_once: bool = False) -> None:
    """End the workers started ahead that no round adopted (the command line was refused).
    `at_once` (this process ends next, without its exit functions): the workers are killed, their
    pools shut down, and multiprocessing's exit finalizers run, which let go of the pools'
    semaphores (else its resource tracker warns of them, "leaked", once this process is gone)."""
    indexed()
    for pool in taken():
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            (process.kill if at_once else process.terminate)()
        pool.shutdown(wait=at_once, cancel_futures=True)
    finalize = getattr(sys.modules.get("multiprocessing.util"), "_run_finalizers", None)
    if at_once and finalize is not None:
        finalize(0)


INTERRUPT_GRACE = 10  # seconds a `cchc round` interrupted from the command line has to end on its own


def _interrupted(signum: int, frame: Any) -> None:
    """Ctrl-C (or SIGTERM: a stop asked of it) in a `cchc round` or `cchc score` started from the
    command line: as Python's own Ctrl-C (KeyboardInterrupt: the run ends its workers and removes
    what it wrote, its staging folder too, and says "interrupted"), but should that not be over
    within `INTERRUPT_GRACE` seconds, the process ends all the same, exit 130 — it is never left
    waiting (its workers end with it). A stop once the run is ending changes nothing: raised
    again, it would cut short the removal of what the run wrote (a second Ctrl-C, an impatient
    SIGTERM), and the grace bounds the ending already."""
    import threading

    if not _BEGUN:  # still starting (importing, reading its command line): nothing is written yet
        _end_unused(at_once=True)
        os._exit(130)
    if _STOPPING:
        return
    if _in_finalizer(frame):  # raised there, it would be printed, dropped, and the run go on
        import signal

        retry = threading.Timer(0.01, signal.raise_signal, (signum,))  # taken once the finalizer is over
        retry.daemon = True
        retry.start()
        return
    _STOPPING.append(True)

    def end() -> None:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(130)

    timer = threading.Timer(INTERRUPT_GRACE, end)
    timer.daemon = True
    timer.start()
    raise KeyboardInterrupt


def _in_finalizer(frame: Any) -> bool:
    """Whether `frame` runs inside an object's finalizer (`__del__`, a weak reference's callback
    such as multiprocessing's `Finalize`), where Python reports an exception and drops it."""
    while frame is not None:
        code = frame.f_code
        if code.co_name == "__del__" or (code.co_name == "__call__" and frame.f_globals.get("__name__") in
                                          ("weakref", "multiprocessing.util")):
            return True
        frame = frame.f_back
    return False


def begun() -> None:
    """The command's own body runs from here (cli.py `guarded`), which ends itself when stopped: a
    stop before (`_interrupted`) ends the process at once, exit 130, rather than as an error."""
    _BEGUN[:] = [True]


def ended() -> None:
    """A `cchc round` or `cchc score` started from the command line is over: its results are in
    place (engine.storage.outdir.Staging's `placed`), or it was stopped and what it wrote is
    removed. A stop now changes nothing, and is ignored: else it would say "interrupted" of a run
    whose results stand, or, once Python, exiting, has given back each signal's default action,
    kill the process (status 143 for a SIGTERM) rather than let it end with its exit code."""
    if not _STOPPABLE:
        return
    import signal

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


def leave() -> None:
    """End a `cchc round` process started from the command line whose round succeeded, once what
    it printed is flushed and its exit functions have run, without the interpreter's teardown
    of every module and object (a tenth of a second, for nothing: every output file is written,
    synced and closed, and its workers have ended). Elsewhere (the command run as a library, by
    tests) or under a profiler or tracer (which writes what it found once the program is done)
    nothing happens."""
    if not _LEAVING or sys.getprofile() is not None or sys.gettrace() is not None:
        return
    ended()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(0)


def indexed() -> Optional[Any]:
    """The future of the evidence's pieces the first worker started ahead cut
    (engine.round.run.index_ahead), handed over once (engine.round.run.round_workers)."""
    futures = list(_INDEXED)
    _INDEXED.clear()
    return _Given(futures[0]) if futures else None


def taken() -> list[Any]:
    """The workers started ahead, handed over once (engine.round.pool.Workers' `ahead`)."""
    pools = list(_AHEAD)
    _AHEAD.clear()
    return pools
