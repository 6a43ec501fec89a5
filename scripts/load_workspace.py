#!/usr/bin/env python3
"""Load check of the workspace: N simulated officers (default 100), each of their own unit, save their
unit's form at the same time for S seconds (default 60) against `cchc serve` on 127.0.0.1.

A save is what a browser does: POST the whole form, follow the redirect, receive the page with the
engine's new points. Reports errors (anything but that), lost saves (an acknowledged save that is not
in the database afterwards) and the p50/p95 time of a save. Exit status 1 when errors or lost saves
are not 0.

    .venv/bin/python scripts/load_workspace.py [--officers 100] [--seconds 60] [--json]

Uses a throwaway data folder (SQLite), or the database named by DATABASE_URL (a fresh round each run).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CRITERIA = REPO / "criteria" / "tien-giang-2023-departments.yaml"
EXAMPLE = REPO / "examples" / "province-round" / "departments" / "evidence" / "so-tai-chinh.yaml"
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def prepare(data: Path, officers: int) -> tuple[dict, list[tuple[int, str]]]:
    """A round of `officers` units with one officer each, already logged in: (form, [(unit pk, session)])."""
    from web.cchcweb.server import setup

    setup(data)
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from web.workspace import scoring, services
    from web.workspace.forms import form_data
    from web.workspace.models import OFFICER, Profile

    run = uuid.uuid4().hex[:8]
    now = timezone.now()
    rows = "unit_id,unit_name,unit_type\n" + "".join(
        f"load-{run}-{i:03d},Đơn vị thử tải {i},department\n" for i in range(officers))
    made = services.create_round(dict(year=2023, title=f"Thử tải {run}", self_assessment_opens=now - timedelta(days=1),
                                      self_assessment_closes=now + timedelta(days=1),
                                      appraisal1_closes=now + timedelta(days=2),
                                      explanation_closes=now + timedelta(days=3),
                                      appraisal2_closes=now + timedelta(days=4)),
                                 [(CRITERIA.name, CRITERIA.read_bytes())], ("don-vi.csv", rows.encode("utf-8")))
    if made.round is None:
        raise SystemExit("; ".join(made.problems))
    cs = scoring.criteria_of(made.round.criteria_sets.get())
    record = scoring.load_records([EXAMPLE], cs)[0]
    form = form_data(*scoring.record_form(record, cs))
    sessions = []
    for unit in made.round.units.order_by("code"):
        user = User(username=unit.code)
        user.set_unusable_password()  # the load is on saving forms, not on password hashing
        user.save()
        Profile.objects.create(user=user, role=OFFICER, unit=unit)
        s = SessionStore()
        s[SESSION_KEY], s[BACKEND_SESSION_KEY] = str(user.pk), settings.AUTHENTICATION_BACKENDS[0]
        s[HASH_SESSION_KEY] = user.get_session_auth_hash()
        s.create()
        sessions.append((unit.pk, s.session_key))
    return form, sessions


class Officer(threading.Thread):
    def __init__(self, port: int, unit: int, session: str, form: dict, until: float, start: threading.Event):
        super().__init__(daemon=True)
        self.port, self.unit, self.form, self.until, self.start_event = port, unit, form, until, start
        self.cookies = {"sessionid": session}
        self.times: list[float] = []
        self.errors: list[str] = []
        self.acknowledged = 0  # the last value of late_reports the server confirmed saving
        self.saves = 0

    def _request(self, conn, method: str, path: str, body: str = "") -> http.client.HTTPResponse:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "Host": f"{HOST}:{self.port}"}
        if body:
            headers.update({"Content-Type": "application/x-www-form-urlencoded",
                            "Referer": f"http://{HOST}:{self.port}{path}"})
        conn.request(method, path, body=body.encode("utf-8") if body else None, headers=headers)
        resp = conn.getresponse()
        for k, v in resp.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return resp

    def run(self) -> None:
        path = f"/don-vi/{self.unit}/"
        conn = http.client.HTTPConnection(HOST, self.port, timeout=120)
        try:
            page = self._request(conn, "GET", path).read().decode("utf-8")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        except Exception as exc:  # noqa: BLE001 - counted, reported
            self.errors.append(f"first page: {exc}")
            return
        self.start_event.wait()
        n = 0
        while time.monotonic() < self.until:
            n += 1
            body = urlencode({**self.form, "m|late_reports|value": str(n), "csrfmiddlewaretoken": token,
                              "save": ""})
            t0 = time.perf_counter()
            try:
                resp = self._request(conn, "POST", path, body)
                resp.read()
                if resp.status != 302 or resp.getheader("Location") != path:
                    self.errors.append(f"save {n}: HTTP {resp.status}")
                    continue
                page = self._request(conn, "GET", path)
                html = page.read().decode("utf-8")
                if page.status != 200 or "Đã lưu. Tổng điểm" not in html:
                    self.errors.append(f"page after save {n}: HTTP {page.status}")
                    continue
            except Exception as exc:  # noqa: BLE001 - counted, reported
                self.errors.append(f"save {n}: {type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection(HOST, self.port, timeout=120)
                continue
            self.times.append(time.perf_counter() - t0)
            self.acknowledged = n
            self.saves += 1
        conn.close()


def lost_saves(officers: list[Officer]) -> list[str]:
    """Acknowledged saves missing from the database: the last value and the number of saves."""
    from web.workspace.models import Assessment

    lost = []
    for o in officers:
        a = Assessment.objects.get(unit_id=o.unit)
        stored = (a.values.get("late_reports") or {}).get("value")
        if o.saves and (stored != str(o.acknowledged) or a.version != o.saves or a.result is None):
            lost.append(f"unit {o.unit}: acknowledged {o.saves} saves (last {o.acknowledged}), stored version "
                        f"{a.version} with {stored}")
    return lost


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--officers", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--threads", type=int, default=8, help="the server's worker threads")
    ap.add_argument("--processes", type=int, default=1, help="the server's processes (cchc serve --processes)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    if not 1 <= args.officers <= 500 or not 1 <= args.seconds <= 600:
        ap.error("--officers 1..500, --seconds 1..600")
    data = Path(tempfile.mkdtemp(prefix="cchc-load-"))
    server = None
    try:
        form, sessions = prepare(data, args.officers)
        port = free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        server = subprocess.Popen([sys.executable, str(REPO / "cli.py"), "serve", "--data", str(data), "--host", HOST,
                                   "--port", str(port), "--threads", str(args.threads),
                                   "--processes", str(args.processes)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection((HOST, port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not start:\n{server.stdout.read() if server.stdout else ''}")
                time.sleep(0.2)
        go = threading.Event()
        until = time.monotonic() + 5 + args.seconds  # time to open every officer's page first
        officers = [Officer(port, unit, session, form, until, go) for unit, session in sessions]
        for o in officers:
            o.start()
        time.sleep(min(5, max(0.0, until - args.seconds - time.monotonic())))
        started = time.monotonic()
        go.set()
        for o in officers:
            o.join(timeout=args.seconds + 180)
        elapsed = time.monotonic() - started
        times = sorted(t for o in officers for t in o.times)
        errors = [e for o in officers for e in o.errors]
        lost = lost_saves(officers)
        q = statistics.quantiles(times, n=100) if len(times) >= 2 else [float("nan")] * 99
        figures = {"officers": args.officers, "seconds": round(elapsed, 1), "server_threads": args.threads,
                   "server_processes": args.processes,
                   "database": "postgresql" if os.environ.get("DATABASE_URL") else "sqlite",
                   "saves": len(times), "saves_per_second": round(len(times) / elapsed, 1) if elapsed else 0,
                   "errors": len(errors), "lost_saves": len(lost),
                   "p50_ms": round(q[49] * 1000), "p95_ms": round(q[94] * 1000),
                   "max_ms": round(times[-1] * 1000) if times else None,
                   "officers_with_a_save": sum(1 for o in officers if o.saves)}
        if args.json:
            print(json.dumps(figures))
        else:
            for k, v in figures.items():
                print(f"{k:>22}: {v}")
        for line in (errors + lost)[:20]:
            print("  " + line, file=sys.stderr)
        return 0 if not errors and not lost and times else 1
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
