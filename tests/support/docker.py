"""Whether a Docker engine answers (testcontainers is used only then)."""

from __future__ import annotations


def docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False
