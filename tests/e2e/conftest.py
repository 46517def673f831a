"""The real stack as a user starts it (``baobei dev`` in a child process, see cli.devstack)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from cli.devstack import DevStack, launch, stack_env


@pytest.fixture(scope="session")
def dev_stack(tmp_path_factory: pytest.TempPathFactory, make_db_url: Callable[[str], str]) -> Iterator[DevStack]:
    stack = launch(tmp_path_factory.mktemp("baobei-dev"), stack_env(make_db_url))
    try:
        yield stack
    finally:
        stack.stop()
