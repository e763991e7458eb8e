"""Runtime code never imports the local Kafka stack (development tooling) nor the CLI.

An AST walk over every runtime module's imports, top level and inside functions alike
(a lazy import is still a dependency). Runtime is every package of ours except
`audit_trail.stack` itself and `audit_trail.cli`, the composition root, which may load
the stack (`stack up`, finding the local broker)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_PACKAGES = ("audit_trail", "consumers", "ledger", "producers", "schemas")
ALLOWED = ("audit_trail.stack", "audit_trail.cli")
FORBIDDEN = ("audit_trail.stack", "audit_trail.cli")


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path) -> set[str]:
    """Absolute names of everything ``path`` imports (relative imports resolved)."""
    module = _module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            found.add(prefix)
            # `from audit_trail import stack` names the package through an attribute.
            found.update(f"{prefix}.{alias.name}" for alias in node.names)
    return found


def _runtime_modules() -> list[Path]:
    paths = [p for pkg in RUNTIME_PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    return [p for p in paths if not _module_name(p).startswith(ALLOWED)]


def _violations(paths: list[Path], root: Path = ROOT) -> list[str]:
    bad: list[str] = []
    for path in paths:
        for name in sorted(_imports(path, root)):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                bad.append(f"{_module_name(path, root)} imports {name}")
    return bad


def test_runtime_code_imports_neither_the_local_stack_nor_the_cli() -> None:
    modules = _runtime_modules()
    names = {_module_name(p) for p in modules}
    # The walk covers what the rule is about (a renamed package would empty it silently).
    for expected in ("audit_trail.settings", "audit_trail.wiring", "audit_trail.serve",
                     "audit_trail.api.app", "consumers.ingest", "ledger.reader",
                     "producers.producer"):  # fmt: skip
        assert expected in names
    assert _violations(modules) == []


def test_the_walk_catches_each_form_of_import(tmp_path: Path) -> None:
    # A copy of the tree's layout, so relative imports resolve as they would in it.
    forms = {
        "absolute.py": "import audit_trail.stack\n",
        "from_package.py": "from audit_trail import stack\n",
        "from_module.py": "from audit_trail.stack.topics import x\n",
        "lazy.py": "def f():\n    from audit_trail.stack import kafka_up\n",
        "relative.py": "from ..stack import kafka_up\n",
        "cli.py": "from audit_trail.cli.app import main\n",
        "fine.py": "from audit_trail.topics import ensure_topics\nimport audit_trail.stacks\n",
    }
    probe = tmp_path / "audit_trail" / "probe"
    probe.mkdir(parents=True)
    for name, text in forms.items():
        (probe / name).write_text(text)
    caught = _violations(sorted(probe.glob("*.py")), tmp_path)
    offenders = {line.split(" imports ")[0].rsplit(".", 1)[1] for line in caught}
    assert offenders == {n.removesuffix(".py") for n in forms} - {"fine"}, caught
