"""A lazy command's summary, read from its module's source without importing it.

The summary is what the command's own help says first: the function's docstring, or the
``help=`` of a sub-app's ``typer.Typer(...)``. Reading it from the source keeps one place
for it (the command) while ``--help`` still imports neither the module nor what the
module imports. Parsing the few command modules costs milliseconds.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
from functools import cache


class SummaryMissing(LookupError):
    """A command's module says nothing a summary could be read from."""


def summary_of(target: str) -> str:
    """The first sentence of the help of ``module:attr``, on one line."""
    module, _, attr = target.partition(":")
    text = _help_texts(module).get(attr)
    if not text:
        raise SummaryMissing(f"{target}: give the command a docstring (or its app a help=)")
    words = inspect.cleandoc(text).split("\n\n", 1)[0].split()
    # Up to the first word that ends a sentence, as click shortens a loaded command's help
    # in a listing (a unit test holds the two equal).
    ends = next((i for i, word in enumerate(words) if word.endswith(".")), len(words) - 1)
    return " ".join(words[: ends + 1])


@cache
def _help_texts(module: str) -> dict[str, str]:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise SummaryMissing(f"no module {module}")
    with open(spec.origin, encoding="utf-8") as source:
        tree = ast.parse(source.read(), spec.origin)
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                found[node.name] = doc
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            help_text = _keyword(node.value, "help")
            for name in node.targets:
                if isinstance(name, ast.Name) and help_text:
                    found[name.id] = help_text
    return found


def _keyword(call: ast.Call, name: str) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == name and isinstance(keyword.value, ast.Constant):
            value = keyword.value.value
            return value if isinstance(value, str) else None
    return None
