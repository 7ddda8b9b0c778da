"""deploy/: the docker-compose deployment, run without Docker. Each agent service's command is
served by ``soorma-lc run`` in a process of its own, with the compose file's environment, on a
real Redis and a Chroma server; a goal submitted from outside is answered by them. The
Dockerfile copies only what exists."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from soorma_lc import RedisRegistry, Settings
from tests.agent_processes import ROOT, Processes
from tests.bus_helpers import eventually
from tests.chroma_server import running_chroma

pytestmark = pytest.mark.slow

DEPLOY = ROOT / "deploy"
SERVERS = ("SOORMA_REDIS_URL", "SOORMA_CHROMA_URL")


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def agent_commands() -> dict[str, str]:
    """Service -> the ``soorma-lc run`` target of every agent service (those built on the
    ``x-agent`` template, which gives them their environment)."""
    return {
        name: service["command"][0]
        for name, service in compose()["services"].items()
        if "environment" in service
    }


def agent_environment() -> dict[str, str]:
    """The variables the compose file sets for agents (pass-through ones and the server URLs,
    which the test replaces with its own servers, left out)."""
    pairs = (entry.split("=", 1) for entry in compose()["x-agent"]["environment"] if "=" in entry)
    return {name: value for name, value in pairs if name not in SERVERS}


def test_the_compose_file_runs_the_four_research_agents_on_shared_servers() -> None:
    agent = compose()["x-agent"]["environment"]
    assert "SOORMA_REDIS_URL=redis://redis:6379/0" in agent
    assert "SOORMA_CHROMA_URL=http://chroma:8000" in agent
    assert sorted(agent_commands()) == ["advisor", "planner", "researcher", "validator"]
    services = compose()["services"]
    assert all(services[name]["deploy"]["replicas"] == 2 for name in agent_commands())


def test_the_dockerfile_copies_what_exists() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    sources = [
        source
        for line in re.findall(r"^COPY (.+)$", dockerfile, flags=re.MULTILINE)
        for source in line.split()[:-1]
    ]
    assert sources and all((ROOT / source).exists() for source in sources)
    assert all((ROOT / target.split(":")[0]).is_file() for target in agent_commands().values())


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    with running_chroma(tmp_path / "chroma") as (url, _):
        yield url


async def test_the_compose_agents_answer_a_goal(
    redis_url: str, chroma_url: str, tmp_path: Path
) -> None:
    from examples.research_advisor.agents import make_planner

    environment = agent_environment()
    settings = Settings(
        redis_url=redis_url,
        chroma_url=chroma_url,
        data_dir=tmp_path / "data",
        tenant_id=environment["SOORMA_TENANT_ID"],
    )
    (tmp_path / "logs").mkdir()
    processes = Processes(settings, tmp_path / "logs")
    try:
        for service, target in agent_commands().items():
            processes.start(service, target, **environment)
        async with RedisRegistry.from_settings(settings) as registry:

            async def everyone_registered() -> bool:
                names = {agent.name for agent in await registry.list_agents()}
                return {"research-planner", "researcher", "advisor", "validator"} <= names

            await eventually(everyone_registered, timeout=120)
        # A submit-only client, as docs/deployment.md shows it.
        client = make_planner(settings=settings)
        try:
            outcome = await client.submit("research.goal", {"topic": "Docker"}, timeout=120)
        finally:
            await client.stop()
    except BaseException:
        print(processes.tails())
        raise
    finally:
        processes.stop_all()
    assert outcome.status == "completed", outcome
    assert outcome.actions >= 2
    assert "Docker" in str(outcome.result)
    assert outcome.termination == "goal_completed"
