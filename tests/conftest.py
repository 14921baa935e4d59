"""Shared fixtures: the seed knowledge folder, a second article, and a built matcher."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engine.folder import load_knowledge
from bot.engine.knowledge import Knowledge
from bot.engine.matcher import Matcher

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED_ID = "ishiba-lee-summit"


@pytest.fixture(scope="session")
def seed() -> Knowledge:
    return load_knowledge(KNOWLEDGE)


@pytest.fixture(scope="session")
def matcher(seed: Knowledge) -> Matcher:
    return Matcher(seed)


@pytest.fixture(scope="session")
def eager(seed: Knowledge) -> Matcher:
    """A matcher that answers at a fixed, lower confidence: for tests of how a conversation
    carries on, which should not move when the confidence model is refit."""
    return Matcher(seed, threshold=0.3)


@pytest.fixture
def two_articles(tmp_path: Path) -> Path:
    """A knowledge folder holding the seed article, the alias table and a second article."""
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    for name in ("port-strike.txt", "port-strike.meta.toml"):
        shutil.copy(FIXTURES / name, folder / name)
    return folder


@pytest.fixture(scope="session")
def discord_bot(seed: Knowledge, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A Discord bot object, never connected, for rendering and callback tests."""
    from bot.discord_app.bot import QABot
    from bot.engine.index import FactIndex
    from bot.settings import load_settings

    settings = load_settings(database_path=tmp_path_factory.mktemp("bot") / "db.sqlite3")
    return QABot(settings, FactIndex.build(seed))


@pytest.fixture(autouse=True)
def discord_requests_follow_the_spec(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that talks to the fake Discord fails when a request it caused breaks the spec."""
    if "fake" not in request.fixturenames:
        yield
        return
    server = request.getfixturevalue("fake")
    before = len(server.violations)
    yield
    refused = server.violations[before:]
    assert not refused, "Discord would refuse:\n" + "\n".join(refused)


@pytest.fixture(scope="module")
def fake():  # type: ignore[no-untyped-def]
    """A local fake Discord for the tests of one module."""
    from tests.support.fake_discord import FakeDiscord

    server = FakeDiscord()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working folder with a copy of the knowledge, for one module's bot process."""
    folder = tmp_path_factory.mktemp("bot")
    shutil.copytree(KNOWLEDGE, folder / "knowledge")
    return folder
