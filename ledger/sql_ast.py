"""What an analyst's statement touches, read from the engine's own parse (``EXPLAIN AST``).

The text is never split or scanned here: ClickHouse parsed it (one statement, or an
error), and this module judges the tree it printed, one node per line, indented by
depth. Judging is conservative: a line that could be read two ways is refused.

Allowed: one SELECT (WITH, UNION, INTERSECT, EXCEPT included), DESCRIBE, or EXPLAIN of
such a statement. Refused: every other kind of statement; a top-level FORMAT, INTO
OUTFILE or SETTINGS (the query runs on a read-only connection with fixed settings);
table functions (file, url, s3, remote, executable, merge, view, ...); functions that
reach files, dictionaries or Join tables; names qualified by a database (system,
the store's own tables).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from schemas import InvalidInput


class SqlRefused(InvalidInput):
    """The SQL is not one read-only query of the documented views."""


class Kind(Enum):
    SELECT = "SelectWithUnionQuery"
    DESCRIBE = "DescribeQuery"
    EXPLAIN = "Explain"


# What each kind of root may hold directly: anything else is FORMAT, INTO OUTFILE or
# SETTINGS, which the analyst does not get to choose.
_ROOT_CHILDREN = {
    Kind.SELECT: {"ExpressionList"},
    Kind.DESCRIBE: {"TableExpression"},
    Kind.EXPLAIN: {"SelectWithUnionQuery", "DescribeQuery"},
}

# Scalar functions that read files, dictionaries, Join tables, models or the server's
# configuration. Compared lower-case; the engine's aliases of them are added at run time.
_REFUSED_FUNCTIONS = frozenset(
    {
        "file",
        "joinget",
        "joingetornull",
        "catboostevaluate",
        "naivebayesclassifier",
        "getserversetting",
        "getmergetreesetting",
        "hascolumnintable",
        "filesystemavailable",
        "filesystemcapacity",
        "filesystemunreserved",
        "dict",
        "generateserialid",  # keeps a counter in Keeper
    }
)


@dataclass(frozen=True)
class Node:
    depth: int
    kind: str
    name: str  # the second word: a function's or table's name, "" when none

    @classmethod
    def parse(cls, line: str) -> Node:
        stripped = line.lstrip(" ")
        words = stripped.split(" ")
        return cls(len(line) - len(stripped), words[0], words[1] if len(words) > 1 else "")


def judge(
    dump: Iterable[str], databases: Iterable[str], aliases_of_refused: Iterable[str] = ()
) -> Kind:
    """The statement's kind, or ``SqlRefused`` naming the first thing not allowed.

    ``dump`` is ``EXPLAIN AST``'s output, one node per item (names stay escaped, so a
    name holding a line break cannot pass for a node of its own).
    """
    nodes = [Node.parse(line) for line in dump if line.strip()]
    if not nodes:
        raise SqlRefused("the engine returned no parse for this statement")
    kind = _root_kind(nodes[0])
    refused_functions = _REFUSED_FUNCTIONS | frozenset(a.lower() for a in aliases_of_refused)
    known_databases = {d.lower() for d in databases}
    _check_root(kind, nodes)
    if kind is Kind.EXPLAIN:
        _check_root(_root_kind(nodes[1]), nodes[1:], depth=1)
    for previous, node in zip([None, *nodes], nodes, strict=False):
        _check_node(previous, node, refused_functions, known_databases)
    return kind


def _root_kind(node: Node) -> Kind:
    for kind in Kind:
        if node.kind == kind.value:
            return kind
    raise SqlRefused(
        "only SELECT (or WITH ... SELECT), DESCRIBE and EXPLAIN of the views are allowed, "
        f"not {node.kind}; writes, DDL, SET, SHOW, SYSTEM and KILL never go through sql"
    )


def _check_root(kind: Kind, nodes: list[Node], depth: int = 0) -> None:
    children = [n for n in nodes[1:] if n.depth == depth + 1]
    allowed = _ROOT_CHILDREN[kind]
    if any(c.kind not in allowed for c in children) or (
        kind is Kind.EXPLAIN and len(children) != 1
    ):
        raise SqlRefused(
            "FORMAT, INTO OUTFILE and SETTINGS are not allowed: the query runs read-only "
            "with fixed settings and its result comes back as text"
        )


def _check_node(
    previous: Node | None,
    node: Node,
    refused_functions: set[str] | frozenset[str],
    databases: set[str],
) -> None:
    if node.kind == "Function":
        name = node.name.lower()
        if previous is not None and previous.kind == "TableExpression":
            raise SqlRefused(
                f"table function {node.name}() is not allowed: query the views "
                "v_session_timeline, v_payment_attempts, v_participation"
            )
        if name in refused_functions or name.startswith(("dictget", "dicthas")):
            raise SqlRefused(f"function {node.name}() reaches outside the views and is not allowed")
    if node.kind in ("TableIdentifier", "Identifier") and "." in node.name:
        first = node.name.split(".", 1)[0].strip('`"').lower()
        if node.kind == "TableIdentifier" or first in databases:
            raise SqlRefused(
                f"{node.name}: name the views without a database "
                "(v_session_timeline, v_payment_attempts, v_participation)"
            )
    if node.kind == "Set":
        # Ignored in a subquery under readonly (checked), refused anyway: no surprises.
        raise SqlRefused("SETTINGS are not allowed: the query runs with fixed settings")
    if node.kind in ("TableFunction", "Dictionary"):
        raise SqlRefused(f"{node.kind} is not allowed")
