"""project.yml against DigitalOcean's rules: keys, quoted environment, web flags, limits, triggers."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from sxe.errors import ConfigError
from sxe.runtime.project import MAX_SCHEDULED_TRIGGERS, load_project, template_variables, validate_project

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def document() -> dict[str, Any]:
    return yaml.safe_load((PROJECT_ROOT / "project.yml").read_text(encoding="utf-8"))


def function(document: dict[str, Any], package: str, name: str) -> dict[str, Any]:
    for item in document["packages"]:
        if item["name"] == package:
            for entry in item["functions"]:
                if entry["name"] == name:
                    return entry
    raise KeyError(f"{package}/{name}")


def test_checked_in_project_is_valid(document: dict[str, Any]) -> None:
    assert validate_project(document) == []


def test_scheduled_triggers_stay_within_limit() -> None:
    project = load_project(PROJECT_ROOT)

    assert 0 < len(project.triggers) <= MAX_SCHEDULED_TRIGGERS
    assert all(function.web is False for function, _ in project.triggers)


def test_deploy_variables_are_templated() -> None:
    project = load_project(PROJECT_ROOT)

    assert {"SXE_DATABASE_URL", "SXE_SIGNING_KEY", "SXE_ENV"} <= template_variables(project)
    assert project.environment["SXE_DATABASE_URL"] == "${SXE_DATABASE_URL}"


def test_unquoted_environment_value_is_rejected(document: dict[str, Any]) -> None:
    document["environment"]["SXE_PORT"] = 5432

    problems = validate_project(document)

    assert problems == [
        'environment.SXE_PORT: is int; DigitalOcean takes strings only, so quote it (for example "${SXE_PORT}")'
    ]


def test_fourth_trigger_is_rejected(document: dict[str, Any]) -> None:
    trigger = {"name": "extra", "sourceType": "scheduler", "sourceDetails": {"cron": "0 3 * * *", "withBody": {}}}
    function(document, "normalize", "batch")["triggers"] = [trigger]

    problems = validate_project(document)

    assert len(problems) == 1
    assert problems[0].startswith("triggers: 4 scheduled triggers declared, DigitalOcean allows 3")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"web": "yes"}, "web: is 'yes'; use true, false or raw"),
        ({"runtime": "python:3.9"}, "runtime: is 'python:3.9'; set it to 'python:3.11'"),
        ({"limits": {"timeout": 1_000_000, "memory": 512}}, "limits.timeout: is 1000000; use an integer from 1"),
        ({"limits": {"timeout": 1000, "memory": 64}}, "limits.memory: is 64; use an integer from 128"),
        ({"limit": {}}, "limit: unknown key"),
    ],
)
def test_bad_function_setting_is_named(document: dict[str, Any], change: dict[str, Any], expected: str) -> None:
    function(document, "ops", "health").update(change)

    problems = validate_project(document)

    assert len(problems) == 1
    assert expected in problems[0]
    assert problems[0].startswith("packages[")


def test_bad_cron_is_rejected(document: dict[str, Any]) -> None:
    function(document, "ops", "tick")["triggers"][0]["sourceDetails"]["cron"] = "*/5 * * *"

    problems = validate_project(document)

    assert len(problems) == 1
    assert "'*/5 * * *' is not a 5-field cron expression" in problems[0]


def test_scheduled_web_function_is_rejected(document: dict[str, Any]) -> None:
    function(document, "ops", "tick")["web"] = True

    assert any("a scheduled function must be web: false" in problem for problem in validate_project(document))


def test_load_reports_every_problem(tmp_path: Path, document: dict[str, Any]) -> None:
    broken = copy.deepcopy(document)
    broken["environment"]["SXE_PORT"] = 5432
    function(broken, "ops", "health")["web"] = "yes"
    (tmp_path / "project.yml").write_text(yaml.safe_dump(broken), encoding="utf-8")

    with pytest.raises(ConfigError) as raised:
        load_project(tmp_path)

    assert "environment.SXE_PORT" in str(raised.value)
    assert "web: is 'yes'" in str(raised.value)


def test_deploy_page_lists_every_variable_and_function() -> None:
    page = (PROJECT_ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    project = load_project(PROJECT_ROOT)
    document = yaml.safe_load((PROJECT_ROOT / "project.yml").read_text(encoding="utf-8"))
    functions = [
        f"{package['name']}/{item['name']}" for package in document["packages"] for item in package["functions"]
    ]

    assert [name for name in project.environment if f"`{name}`" not in page] == []
    assert [name for name in functions if f"`{name}`" not in page] == []
