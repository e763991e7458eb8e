"""A lazy command's summary comes from its own help, read without importing its module."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from audit_trail.cli.summaries import SummaryMissing, summary_of

SOURCE = '''
import this_module_does_not_exist  # never imported: the summary is read from the source

def run():
    """Do the thing for ONE subject. Then say so.

    More help here.
    """

def bare():
    pass

app = make(help="A group of things. And more.", no_args_is_help=True)
'''


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "fake_cmd.py").write_text(SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "fake_cmd"


def test_the_first_sentence_of_a_docstring_or_an_apps_help(module: str) -> None:
    assert summary_of(f"{module}:run") == "Do the thing for ONE subject."
    assert summary_of(f"{module}:app") == "A group of things."
    assert module not in sys.modules


def test_a_command_without_help_is_named(module: str) -> None:
    with pytest.raises(SummaryMissing, match="fake_cmd:bare: give the command a docstring"):
        summary_of(f"{module}:bare")
    with pytest.raises(SummaryMissing, match="no module"):
        summary_of("no_such_module_here:run")
