"""The shape of the package, checked from its syntax trees: imports flow one way, the pure core stays pure.

Imports inside functions count, and importing `a.b.c` counts as importing the packages `a.b` and `a`
too (Python runs their __init__ first).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "avatar"
HEAVY = {"pygame", "cv2", "mediapipe", "matplotlib"}
PURE = ("avatar.empathy", "avatar.rig", "avatar.contract", "avatar.outcome", "avatar.events", "avatar.face_data",
        "avatar.mode", "avatar.settings_schema", "avatar.strings", "avatar.self_capture")
MEDIAPIPE_ALLOWED = {"avatar.face", "avatar.bench.bare_loop"}
MAX_INSTANCE_ATTRIBUTES = 20
MAX_GETATTR_CALLS = 21


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()
TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


def _imported_names(name: str, tree: ast.AST) -> set[str]:
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            called = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if called in ("__import__", "import_module") and node.args and isinstance(node.args[0], ast.Constant):
                names.add(str(node.args[0].value))
    return names


def _graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    internal: dict[str, set[str]] = defaultdict(set)
    external: dict[str, set[str]] = defaultdict(set)
    for name, tree in TREES.items():
        for imported in _imported_names(name, tree):
            if imported.split(".")[0] != "avatar":
                external[name].add(imported.split(".")[0])
                continue
            parts = imported.split(".")
            for i in range(1, len(parts) + 1):  # the module and every package above it
                prefix = ".".join(parts[:i])
                if prefix in MODULES and prefix != name and not name.startswith(prefix + "."):
                    internal[name].add(prefix)
    return internal, external


INTERNAL, EXTERNAL = _graph()


def _reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in INTERNAL[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_there_is_no_import_cycle():
    cycles = sorted(name for name in MODULES if name in _reachable(name))
    assert cycles == []


def test_only_the_command_line_imports_the_command_line():
    importers = {name for name, targets in INTERNAL.items() if "avatar.cli" in targets}
    allowed = {n for n in MODULES if n == "avatar.__main__" or n.startswith("avatar.cli")}
    assert importers <= allowed


@pytest.mark.parametrize("module", PURE)
def test_the_pure_core_imports_no_heavy_library_even_through_another_module(module):
    reached = {module} | _reachable(module)
    heavy = {(m, lib) for m in reached for lib in EXTERNAL[m] & HEAVY}
    assert heavy == set()


def test_only_the_face_stage_and_the_bare_loop_import_mediapipe():
    importers = {name for name, libraries in EXTERNAL.items() if "mediapipe" in libraries}
    assert importers <= MEDIAPIPE_ALLOWED


def test_no_class_keeps_more_than_twenty_attributes_on_self():
    crowded = {}
    for name, tree in TREES.items():
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
            assigned = {node.attr for node in ast.walk(cls) if isinstance(node, ast.Attribute)
                        and isinstance(node.value, ast.Name) and node.value.id == "self" and isinstance(node.ctx, ast.Store)}
            if len(assigned) > MAX_INSTANCE_ATTRIBUTES:
                crowded[f"{name}.{cls.name}"] = len(assigned)
    assert crowded == {}


def test_getattr_and_hasattr_stay_rare():
    calls = [(name, node.lineno) for name, tree in TREES.items() for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr")]
    assert len(calls) <= MAX_GETATTR_CALLS, calls
