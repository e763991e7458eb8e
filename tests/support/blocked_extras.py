"""Run Python as a base install would: the modules of the extras cannot be imported.

``python -m tests.support.blocked_extras -c CODE`` or ``... -m MODULE ARGS``: a meta path
finder refuses chdb, pyarrow, clickhouse-driver, fastapi, uvicorn and pyjwt as if they were
not installed, so tests check the base install's promises without a second venv.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import runpy
import sys
from collections.abc import Sequence

from audit_trail.extras import EXTRA_OF_MODULE


class _Absent(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.split(".")[0] in EXTRA_OF_MODULE:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


def main(argv: list[str]) -> None:
    sys.meta_path.insert(0, _Absent())
    if argv[0] == "-c":
        sys.argv = ["-c", *argv[2:]]
        exec(compile(argv[1], "<blocked-extras>", "exec"), {"__name__": "__main__"})
    elif argv[0] == "-m":
        sys.argv = [argv[1], *argv[2:]]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        raise SystemExit("usage: python -m tests.support.blocked_extras (-c CODE | -m MODULE) ...")


if __name__ == "__main__":
    main(sys.argv[1:])
