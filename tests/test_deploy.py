"""The container and service files: linted here, since this machine runs no Docker daemon."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from compose_spec.models import ComposeSpecification

from tests.conftest import ROOT


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    result = subprocess.run([hadolint, "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_as_a_user_with_a_health_check_and_no_token() -> None:
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and not users[-1].startswith(("root", "0"))
    assert any(line.startswith("HEALTHCHECK") and "qabot" in line and "health" in line for line in lines)
    assert not any("QABOT_DISCORD_TOKEN" in line for line in lines if not line.startswith("#"))


def test_compose_follows_the_compose_spec_with_volumes_and_a_health_check() -> None:
    document = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    spec = ComposeSpecification.model_validate(document)
    service = document["services"]["qabot"]
    assert spec.services is not None and "qabot" in spec.services
    mounts = {volume.split(":")[1] for volume in service["volumes"]}
    assert {"/knowledge", "/data"} <= mounts
    assert service["healthcheck"]["test"] == ["CMD", "qabot", "health"]
    assert not str(service["user"]).startswith("0")
    assert service["env_file"] == [".env"]  # the token stays out of the file


def test_the_systemd_unit_restarts_reloads_and_keeps_the_token_out() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(ROOT / "deploy" / "qabot.service", encoding="utf-8")
    service = unit["Service"]
    assert service["Restart"] == "on-failure"
    assert service["EnvironmentFile"].startswith("/etc/")
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["ExecStart"].endswith("qabot run")
    assert "QABOT_DISCORD_TOKEN" not in (ROOT / "deploy" / "qabot.service").read_text(encoding="utf-8")


def test_the_example_settings_blank_nothing_the_image_sets() -> None:
    """Compose passes every line of .env into the container, over the image's ENV: a
    blank value there would unset the cache folder, health file and log file."""
    import re

    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    image_sets = set(re.findall(r"\b(QABOT_[A-Z_]+)=", dockerfile))
    assert {"QABOT_CACHE_DIR", "QABOT_HEALTH_FILE", "QABOT_LOG_FILE"} <= image_sets
    for name in ("env.example",):
        lines = (ROOT / "bot" / "data" / name).read_text(encoding="utf-8").splitlines()
        assigned = dict(line.split("=", 1) for line in lines if line.startswith("QABOT_"))
        assert not [key for key, value in assigned.items() if not value.strip()], "blank values in .env.example"
        assert not image_sets & set(assigned), "the example overrides what the image sets"
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    knowledge = [volume for volume in compose["services"]["qabot"]["volumes"] if ":/knowledge" in volume]
    assert knowledge and not knowledge[0].endswith(":ro"), "/article add needs a writable knowledge folder"
