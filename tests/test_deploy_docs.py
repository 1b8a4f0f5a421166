"""The deployment files say what the README says, and use what the code has."""

from __future__ import annotations

import re
from pathlib import Path

from bot.cli import _parser
from bot.settings import Settings, StorageSettings

ROOT = Path(__file__).resolve().parent.parent


def readme_install_lines() -> list[str]:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Deploying", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip()]


def test_the_dockerfile_installs_with_exactly_the_readmes_commands() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    run = re.search(r"^RUN (python3 -m venv .*?)$\n(?:(?!^\S).*\n)*", dockerfile, re.M)
    assert run is not None
    commands = [c.strip(" \\\n") for c in run.group(0).removeprefix("RUN ").split("&&")]
    assert commands == readme_install_lines()


def test_the_ci_script_runs_the_same_install() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    venv, pip = readme_install_lines()
    assert venv.replace("/opt/pulse", '"$deploy"') in script
    assert pip.replace("/opt/pulse", '"$deploy"') in script


def test_ports_and_commands_are_the_codes() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    webhook = Settings.model_fields["webhook_port"].default
    health = StorageSettings.model_fields["health_port"].default
    assert f"EXPOSE {webhook} {health}" in dockerfile
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert f'"127.0.0.1:{webhook}:{webhook}"' in compose
    assert f'"127.0.0.1:{health}:{health}"' in compose
    unit = (ROOT / "deploy" / "pulse.service").read_text(encoding="utf-8")
    assert "ExecStart=/opt/pulse/venv/bin/pulsebot run\n" in unit
    # The commands the files run exist.
    parser = _parser()
    for args in (["run"], ["run", "--webhook"], ["health"]):
        assert parser.parse_args(args).command == args[0]
    assert 'CMD ["/opt/pulse/venv/bin/pulsebot", "health"]' in dockerfile
