"""Sub-commands loaded on demand, so `audit-trail --help` and `--version` start fast.

A command's module imports what the command needs (Kafka clients, the store and with it
chDB and pyarrow, the HTTP stack): seconds and hundreds of MB that a look at the help
must not pay. The root group lists each command from its entry here (name and summary)
and imports the command's module only when that command runs or its own help is asked
for; the summary is read from the module's source (``audit_trail.cli.summaries``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from audit_trail.cli.summaries import summary_of


@dataclass(frozen=True)
class Lazy:
    """A sub-command: ``module:attr`` is a command function or a sub-app (typer.Typer)."""

    name: str
    target: str
    context_settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        """The first sentence of the command's help, shown in the root's list."""
        return summary_of(self.target)

    def load(self) -> Any:
        """The click command, built from the imported module."""
        module, _, attr = self.target.partition(":")
        found = getattr(importlib.import_module(module), attr)
        command: Any
        if isinstance(found, typer.Typer):
            command = typer.main.get_group(found)  # a group even with one command
        else:
            holder = typer.Typer(add_completion=False)
            holder.command(self.name, context_settings=dict(self.context_settings))(found)
            command = typer.main.get_command(holder)  # one command: itself, not a group
        command.name = self.name
        return command

    def stub(self) -> TyperCommand:
        """What the root's help lists: the name and summary, nothing imported."""
        return TyperCommand(name=self.name, help=self.summary, callback=None)


class LazyGroup(TyperGroup):
    """The root group: commands of ``LAZY`` load when resolved, list as stubs in help."""

    lazy: tuple[Lazy, ...] = ()

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        eager = [name for name in super().list_commands(ctx) if name not in self._names()]
        return [entry.name for entry in self.lazy] + eager

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        entry = next((e for e in self.lazy if e.name == cmd_name), None)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        if self._listing:
            return entry.stub()
        if cmd_name not in self.commands:
            self.commands[cmd_name] = entry.load()
        return self.commands[cmd_name]

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except typer.TyperException as exc:
            # typer suggests close matches from the loaded commands only: add the lazy ones.
            message = str(getattr(exc, "message", ""))
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if message and matches and "Did you mean" not in message:
                names = ", ".join(repr(m) for m in matches)
                exc.message = f"{message.rstrip('.')}. Did you mean {names}?"
            raise

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def _names(self) -> set[str]:
        return {entry.name for entry in self.lazy}


def group_with(entries: tuple[Lazy, ...]) -> type[LazyGroup]:
    """A LazyGroup class that knows ``entries`` (typer instantiates the class itself)."""
    return type("AuditTrailGroup", (LazyGroup,), {"lazy": entries})
