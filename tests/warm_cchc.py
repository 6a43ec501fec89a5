"""A `cchc` for scripts under test (scripts/demo.sh) that does not start Python for every command.

`warm_bin(folder)` starts one server process that imports the command line and the libraries its
commands load (the rule engine, Jinja, openpyxl, WeasyPrint), and writes into `folder` a `cchc`
client and a `python`. Each `cchc ARGS` the script runs sends its arguments, working folder,
environment and standard streams to the server, which forks: the child runs the `cchc` console
entry point (`cli:app`) on them exactly as a fresh process would (its exit handlers run, an uncaught
exception prints its traceback and exits 1) and the client exits with the child's status. A
command's work is the same; only the interpreter's start-up and the imports are shared (each child
is a copy of the server, so no command sees what an earlier one did).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# What the commands import when they run (imported once in the server; a module left out is imported
# by the command that needs it, as in a fresh process).
PRELOAD = ("cli", "commands.scoring", "commands.round", "commands.reports", "commands.audit", "engine",
           "engine.round.pool", "engine.storage.bundle", "engine.audit.replay", "rules", "reports.render",
           "reports.office", "reports.pdf", "reports.docx", "reports.sheets", "reports.intake", "jinja2",
           "openpyxl", "docx", "weasyprint")

CLIENT = """#!{python} -IS
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect({address!r})
msg = json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}}).encode()
socket.send_fds(s, [len(msg).to_bytes(8, "big") + msg], [0, 1, 2])
status = s.recv(16)
sys.exit(int(status) if status else 1)
"""


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    import json

    data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
    size = int.from_bytes(data[:8], "big")
    data = data[8:]
    while len(data) < size:
        data += conn.recv(size - len(data))
    return json.loads(data), fds


def _run_command(request: dict, fds: list[int]) -> int:
    """In the forked child: become the command and run it; its exit status."""
    import atexit
    import traceback

    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["cchc", *request["argv"]]
    try:
        from cli import app

        app()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - as the interpreter does with an uncaught exception
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    return code


def serve(address: str) -> None:
    """The server: import once, then fork a child per command, one command at a time."""
    import gc
    import importlib

    sys.path.insert(0, str(ROOT))
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the command that needs it imports it again and fails as it would
            pass
    gc.freeze()  # what the server imported is never collected, nor copied into a child by the collector
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(address)
    listener.listen()
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        with conn:
            request, fds = _receive(conn)
            pid = os.fork()
            if pid == 0:
                listener.close()
                conn.close()
                os._exit(_run_command(request, fds))
            for fd in fds:
                os.close(fd)
            status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
            conn.sendall(str(status if status >= 0 else 128 - status).encode())


@contextmanager
def warm_bin(folder: Path, env: dict):
    """A bin folder whose `cchc` runs in children of one warm server (started with `env`) and whose
    `python` is this interpreter; the server ends with the block."""
    folder.mkdir(parents=True, exist_ok=True)
    address = str(folder / "cchc.sock")
    server = subprocess.Popen([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
                               f"import warm_cchc; warm_cchc.serve({address!r})"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline() == "ready\n", "the warm cchc server did not start"
        client = folder / "cchc"
        client.write_text(CLIENT.format(python=sys.executable, address=address), encoding="utf-8")
        python = folder / "python"
        python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
        for f in (client, python):
            f.chmod(0o755)
        yield folder
    finally:
        server.kill()
        server.wait(timeout=30)
        server.stdout.close()
