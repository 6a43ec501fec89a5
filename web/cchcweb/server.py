"""Start the workspace: settings from the data folder, migrations, optionally the demo, then waitress."""
from __future__ import annotations

import os
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


def run(data: Path, host: str, port: int, *, demo: bool, threads: int, echo: Callable[[str], None]) -> None:
    setup(data, host)
    if demo:
        from engine.errors import CchcError
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
    import waitress

    from web.cchcweb.wsgi import application

    server = waitress.create_server(application, host=host, port=port, threads=threads, ident="cchc",
                                    connection_limit=1000, max_request_body_size=_body_limit())
    echo(f"cchc workspace: http://{host}:{server.effective_port}/  (data: {data.resolve()}; Ctrl+C stops it)")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def _body_limit() -> int:
    from django.conf import settings

    return settings.UPLOAD_MAX_BYTES + 1024 * 1024
