"""Finding a consumer's decoding workers (Linux /proc), to kill them in tests."""

from __future__ import annotations

from pathlib import Path


def decoding_workers(parent: int) -> list[int]:
    """The pids of ``parent``'s spawned multiprocessing children (its decoding workers;
    not its resource tracker, which runs another command)."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        # The command name in parentheses may hold spaces: the fields follow its end.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead and not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
