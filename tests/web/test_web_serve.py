"""`cchc serve --demo` as a user starts it: a data folder, the example province, passwords printed
once, waitress on 127.0.0.1; and the load script, shortened (docs/workspace.md has the full run)."""
from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from urllib.parse import urlencode

import pytest

from conftest import REPO

CLI = [sys.executable, str(REPO / "cli.py")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sqlite_env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CCHC_DATA")} | {"PYTHONUNBUFFERED": "1"}


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="the command's own SQLite set-up; run once")
def test_serve_demo_prints_passwords_once_and_serves_the_example_province(tmp_path):
    data, port = tmp_path / "du-lieu", _free_port()
    proc = subprocess.Popen(CLI + ["serve", "--demo", "--data", str(data), "--port", str(port)], env=_sqlite_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "cchc workspace: http://127.0.0.1:" in line:
                break
        out = "".join(lines)
        assert f"http://127.0.0.1:{port}/" in out, out
        passwords = dict(re.findall(r"^\s+(\S+)\s+(\S+)\s+", out, re.M))
        assert {"sonoivu", "kiemtra", "thamdinh", "so-tai-chinh"} <= set(passwords)
        assert (data / "cchc.sqlite3").exists() and (data / "secret_key").stat().st_mode & 0o077 == 0
        assert passwords["sonoivu"] not in (data / "secret_key").read_text()

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/dang-nhap/")
        resp = conn.getresponse()
        page = resp.read().decode("utf-8")
        assert resp.getheader("Server") != "WSGIServer" and resp.getheader("X-Frame-Options") == "DENY"
        cookie = resp.getheader("Set-Cookie").split(";", 1)[0]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        conn.request("POST", "/dang-nhap/", urlencode({"username": "sonoivu", "password": passwords["sonoivu"],
                                                       "csrfmiddlewaretoken": token}),
                     {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded",
                      "Referer": f"http://127.0.0.1:{port}/dang-nhap/"})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 302, resp.status
        session = [c.split(";", 1)[0] for k, c in resp.getheaders() if k == "Set-Cookie" and "sessionid" in c][0]
        conn.request("GET", "/dot/1/", headers={"Cookie": f"{cookie}; {session}"})
        resp = conn.getresponse()
        html = resp.read().decode("utf-8")
        assert resp.status == 200 and len(set(re.findall(r'href="/don-vi/(\d+)/', html))) == 50
        assert "Sở Tài chính" in html and "Xã An Hòa" in html
        assert re.search(r"\d+,\d\d % · (Tốt|Khá|Trung bình|Yếu) · hạng \d+", html)  # last year's round
        conn.request("GET", "/khong-co/")
        resp = conn.getresponse()
        assert resp.status == 404 and b"Traceback" not in resp.read()  # DEBUG is off
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    again = subprocess.run(CLI + ["serve", "--demo", "--data", str(data), "--port", str(port)], env=_sqlite_env(),
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "already holds a round" in again.stderr
    assert "sonoivu" not in again.stdout  # no passwords the second time


def test_load_script_saves_without_errors_or_lost_saves():
    """Officers saving at once, shortened for the test run: 25 officers for 5 s by default
    (CCHC_LOAD_OFFICERS, CCHC_LOAD_SECONDS); docs/workspace.md has the full 100 officers × 60 s."""
    officers = os.environ.get("CCHC_LOAD_OFFICERS", "25")
    seconds = os.environ.get("CCHC_LOAD_SECONDS", "5")
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "load_workspace.py"), "--officers", officers,
                          "--seconds", seconds, "--json"], capture_output=True, text=True, timeout=600,
                         env={k: v for k, v in os.environ.items() if k != "CCHC_DATA"})
    assert run.returncode == 0, run.stdout + run.stderr
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["errors"] == 0 and figures["lost_saves"] == 0 and figures["saves"] > 0


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="the command's own SQLite set-up; run once")
def test_serve_with_two_processes_shares_the_port_and_the_workers_end_with_it(tmp_path):
    data, port = tmp_path / "du-lieu", _free_port()
    proc = subprocess.Popen(CLI + ["serve", "--data", str(data), "--port", str(port), "--processes", "2",
                                   "--threads", "2"], env=_sqlite_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert "2 process(es)" in proc.stdout.readline()
        children = []
        deadline = time.monotonic() + 60
        while not children and time.monotonic() < deadline:
            time.sleep(0.3)
            children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) == 1
        time.sleep(3)  # the second process starts Django and listens
        statuses = set()
        for _ in range(20):  # new connections, spread by the kernel over both processes
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/dang-nhap/")
            statuses.add(conn.getresponse().status)
            conn.close()
        assert statuses == {200}
    finally:
        proc.kill()  # even a killed server takes its worker process with it
        proc.wait(timeout=20)
    worker = int(children[0])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and os.path.exists(f"/proc/{worker}"):
        time.sleep(0.2)
    assert not os.path.exists(f"/proc/{worker}") or "Z" in open(f"/proc/{worker}/stat").read().split()[2]
