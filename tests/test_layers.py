"""The dependency direction of the code is a contract a tool checks (import-linter), not a comment."""
from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ("engine", "rules", "reports")


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"]["contracts"]


def _imports(path: Path) -> set[str]:
    """Every module name a file imports, relative imports resolved against its package."""
    tree = ast.parse(path.read_text("utf-8"))
    package = list(path.relative_to(ROOT).parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "BROKEN" not in run.stdout and " kept, 0 broken" in run.stdout


def test_every_engine_package_has_a_layer():
    layers = next(c for c in _contracts() if c["type"] == "layers" and c.get("containers") == ["engine"])
    named = {name.strip() for layer in layers["layers"] for name in layer.replace(":", "|").split("|")}
    packages = {p.parent.name for p in (ROOT / "engine").glob("*/__init__.py")}
    flat = sorted(p.stem for p in (ROOT / "engine").glob("*.py") if p.stem != "__init__")
    assert packages == named, f"engine packages {sorted(packages)} vs layers {sorted(named)}"
    assert not flat, f"modules outside every layer: {flat}"


def test_the_library_never_imports_the_command_line_nor_modules_by_name():
    offenders = []
    for top in LIBRARY:
        for path in sorted((ROOT / top).rglob("*.py")):
            imported = _imports(path)
            if {"cli", "commands"} & {name.split(".")[0] for name in imported}:
                offenders.append(f"{path.relative_to(ROOT)} imports the command line")
            if "importlib.import_module" in imported or "__import__" in path.read_text("utf-8"):
                offenders.append(f"{path.relative_to(ROOT)} imports a module by name")
            if "importlib" in imported and "import_module" in path.read_text("utf-8"):
                offenders.append(f"{path.relative_to(ROOT)} imports a module by name")
    assert not offenders, "\n".join(offenders)
