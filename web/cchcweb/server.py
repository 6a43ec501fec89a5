"""Start the workspace: settings from the data folder, migrations, optionally the demo, then waitress."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Callable


def setup(data: Path, host: str = "127.0.0.1") -> None:
    """Point Django at a data folder and bring its database up to date."""
    data.mkdir(parents=True, exist_ok=True)
    os.environ["CCHC_DATA"] = str(data.resolve())
    os.environ["CCHC_HOST"] = host
    os.environ["DJANGO_SETTINGS_MODULE"] = "web.cchcweb.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def run(data: Path, host: str, port: int, *, demo: bool, threads: int, echo: Callable[[str], None],
        processes: int = 1) -> None:
    setup(data, host)
    if demo:
        from engine.core.errors import CchcError
        from web.workspace.demo import load_demo
        from web.workspace.services import Refused

        try:
            accounts = load_demo()
        except Refused as exc:
            raise CchcError(str(exc)) from None
        echo("Ví dụ đã nạp: tỉnh ví dụ, năm 2023 (20 sở, ban, ngành; 30 xã, phường). Mật khẩu chỉ in một lần:")
        width = max(len(u) for u, _, _ in accounts)
        for username, password, what in accounts:
            echo(f"  {username:<{width}}  {password}  {what}")
    sock = listening_socket(host, port, shared=processes > 1)
    port = sock.getsockname()[1]
    workers = [_start_worker(data, host, port, threads) for _ in range(processes - 1)]
    echo(f"cchc workspace: http://{host}:{port}/  (data: {data.resolve()}; "
         f"{processes} process(es) × {threads} threads; Ctrl+C stops it)")
    try:
        serve_socket(sock, threads)
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            try:
                w.wait(timeout=10)
            except subprocess.TimeoutExpired:
                w.kill()


def listening_socket(host: str, port: int, *, shared: bool) -> socket.socket:
    """The server's socket; `shared`: several processes listen on the same port (SO_REUSEPORT) and
    the kernel hands each new connection to one of them."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


def serve_socket(sock: socket.socket, threads: int) -> None:
    import waitress

    from web.cchcweb.wsgi import application

    server = waitress.create_server(application, sockets=[sock], threads=threads, ident="cchc",
                                    connection_limit=1000, max_request_body_size=_body_limit())
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def _start_worker(data: Path, host: str, port: int, threads: int) -> subprocess.Popen:
    """Another server process on the same port (a fresh interpreter: nothing of this process's
    database connections or rule-engine host is shared); it ends when this process ends."""
    return subprocess.Popen([sys.executable, "-m", "web.cchcweb.server", str(data), host, str(port), str(threads)],
                            cwd=Path(__file__).resolve().parents[2], preexec_fn=_die_with_parent)


def _die_with_parent() -> None:
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _body_limit() -> int:
    from django.conf import settings

    return settings.UPLOAD_MAX_BYTES + 1024 * 1024


if __name__ == "__main__":  # a worker process started by `run` (processes > 1)
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    _data, _host, _port, _threads = sys.argv[1:5]
    setup(Path(_data), _host)
    serve_socket(listening_socket(_host, int(_port), shared=True), int(_threads))
