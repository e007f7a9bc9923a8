"""`project.yml`: load it, check it against DigitalOcean's rules and list its functions.

The rules come from DigitalOcean's "Project Configuration YAML File" reference and the
Functions limits page: environment values must be strings, `web` is true, false or "raw",
limits are a timeout in milliseconds and memory in MB, and a namespace takes at most
three scheduled triggers while scheduled triggers are in preview. `validate_project`
returns every problem it finds, each naming the key path and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from sxe.errors import ConfigError

PROJECT_FILE = "project.yml"
RUNTIME = "python:3.11"
MAX_SCHEDULED_TRIGGERS = 3
# DigitalOcean Functions limits: timeout 1 ms .. 15 minutes, memory 128 .. 1024 MB.
TIMEOUT_RANGE_MS = (1, 900_000)
MEMORY_RANGE_MB = (128, 1024)

PROJECT_KEYS = frozenset({"environment", "parameters", "packages", "targetNamespace"})
PACKAGE_KEYS = frozenset({"name", "shared", "environment", "parameters", "annotations", "functions"})
FUNCTION_KEYS = frozenset(
    {
        "name",
        "binary",
        "main",
        "runtime",
        "web",
        "webSecure",
        "parameters",
        "environment",
        "annotations",
        "limits",
        "triggers",
    }
)
LIMIT_KEYS = frozenset({"timeout", "memory", "logs"})
TRIGGER_KEYS = frozenset({"name", "sourceType", "sourceDetails", "enabled"})
SOURCE_DETAIL_KEYS = frozenset({"cron", "withBody"})

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TEMPLATE_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

WebFlag = Literal[True, False, "raw"]


@dataclass(frozen=True, slots=True)
class Trigger:
    """A scheduled trigger: a 5-field cron expression (UTC) and the body it sends as the event."""

    name: str
    cron: str
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Function:
    """One function of the project, as DigitalOcean deploys it."""

    package: str
    name: str
    web: WebFlag
    timeout_ms: int
    memory_mb: int
    environment: dict[str, str]
    triggers: tuple[Trigger, ...] = ()

    @property
    def path(self) -> str:
        """`<package>/<function>`, the folder under packages/ and the URL suffix."""
        return f"{self.package}/{self.name}"


@dataclass(frozen=True, slots=True)
class Project:
    """The parsed project: its root folder, project-level environment and functions."""

    root: Path
    environment: dict[str, str]
    functions: tuple[Function, ...] = field(default_factory=tuple)

    def function(self, package: str, name: str) -> Function | None:
        """Return the function `package/name`, or None when the project has none of that name."""
        for function in self.functions:
            if function.package == package and function.name == name:
                return function
        return None

    def handler_path(self, function: Function) -> Path:
        return self.root / "packages" / function.package / function.name / "__main__.py"

    @property
    def triggers(self) -> list[tuple[Function, Trigger]]:
        return [(function, trigger) for function in self.functions for trigger in function.triggers]


def load_project(root: Path) -> Project:
    """Read and check `root/project.yml`; raise ConfigError listing every problem found."""
    path = root / PROJECT_FILE
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path} does not exist; run from the project folder or pass its path") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc

    problems = validate_project(document)
    if problems:
        raise ConfigError(f"{path} breaks DigitalOcean's rules:\n  " + "\n  ".join(problems))
    return _parse(root, document)


def validate_project(document: Any) -> list[str]:
    """Return every rule `document` breaks, as `key.path: problem and fix` lines; empty when it is valid."""
    if not isinstance(document, dict):
        return ["(top level): project.yml must be a mapping with a 'packages' list"]

    problems = _unknown_keys("(top level)", document, PROJECT_KEYS)
    problems += _check_environment("environment", document.get("environment"))
    packages = document.get("packages")
    if not isinstance(packages, list) or not packages:
        return [*problems, "packages: must be a non-empty list of packages"]

    scheduled = 0
    for index, package in enumerate(packages):
        where = f"packages[{index}]"
        if not isinstance(package, dict):
            problems.append(f"{where}: must be a mapping with 'name' and 'functions'")
            continue
        problems += _check_package(where, package)
        for function in package.get("functions") or []:
            if isinstance(function, dict):
                scheduled += len(function.get("triggers") or [])

    if scheduled > MAX_SCHEDULED_TRIGGERS:
        problems.append(
            f"triggers: {scheduled} scheduled triggers declared, DigitalOcean allows "
            f"{MAX_SCHEDULED_TRIGGERS} per namespace; let functions share a trigger through its withBody"
        )
    return problems


def _check_package(where: str, package: dict[str, Any]) -> list[str]:
    problems = _unknown_keys(where, package, PACKAGE_KEYS)
    problems += _check_name(where, package.get("name"))
    problems += _check_environment(f"{where}.environment", package.get("environment"))
    functions = package.get("functions")
    if not isinstance(functions, list) or not functions:
        return [*problems, f"{where}.functions: must be a non-empty list"]

    for index, function in enumerate(functions):
        function_where = f"{where}.functions[{index}]"
        if not isinstance(function, dict):
            problems.append(f"{function_where}: must be a mapping with 'name', 'runtime', 'web' and 'limits'")
            continue
        problems += _check_function(function_where, function)
    return problems


def _check_function(where: str, function: dict[str, Any]) -> list[str]:
    problems = _unknown_keys(where, function, FUNCTION_KEYS)
    problems += _check_name(where, function.get("name"))
    if function.get("runtime") != RUNTIME:
        problems.append(f"{where}.runtime: is {function.get('runtime')!r}; set it to {RUNTIME!r}")
    if function.get("web") not in (True, False, "raw"):
        problems.append(f"{where}.web: is {function.get('web')!r}; use true, false or raw")
    problems += _check_environment(f"{where}.environment", function.get("environment"))
    problems += _check_limits(f"{where}.limits", function.get("limits"))

    triggers = function.get("triggers") or []
    if triggers and function.get("web") is not False:
        problems.append(f"{where}.web: a scheduled function must be web: false, so only its trigger can run it")
    if not isinstance(triggers, list):
        return [*problems, f"{where}.triggers: must be a list"]
    for index, trigger in enumerate(triggers):
        problems += _check_trigger(f"{where}.triggers[{index}]", trigger)
    return problems


def _check_limits(where: str, limits: Any) -> list[str]:
    if not isinstance(limits, dict):
        return [f"{where}: missing; give timeout (ms) and memory (MB)"]

    problems = _unknown_keys(where, limits, LIMIT_KEYS)
    for key, (low, high), unit in (("timeout", TIMEOUT_RANGE_MS, "ms"), ("memory", MEMORY_RANGE_MB, "MB")):
        value = limits.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems.append(f"{where}.{key}: is {value!r}; use an integer from {low} to {high} {unit}")
    return problems


def _check_trigger(where: str, trigger: Any) -> list[str]:
    from croniter import croniter  # type: ignore[import-untyped]

    if not isinstance(trigger, dict):
        return [f"{where}: must be a mapping with name, sourceType and sourceDetails"]
    problems = _unknown_keys(where, trigger, TRIGGER_KEYS)
    problems += _check_name(where, trigger.get("name"))
    if trigger.get("sourceType") != "scheduler":
        problems.append(f"{where}.sourceType: is {trigger.get('sourceType')!r}; the only source is 'scheduler'")

    details = trigger.get("sourceDetails")
    if not isinstance(details, dict):
        return [*problems, f"{where}.sourceDetails: must hold 'cron' and optionally 'withBody'"]
    problems += _unknown_keys(f"{where}.sourceDetails", details, SOURCE_DETAIL_KEYS)
    cron = details.get("cron")
    if not isinstance(cron, str) or len(cron.split()) != 5 or not croniter.is_valid(cron):
        problems.append(f"{where}.sourceDetails.cron: {cron!r} is not a 5-field cron expression such as '*/5 * * * *'")
    if not isinstance(details.get("withBody", {}), dict):
        problems.append(f"{where}.sourceDetails.withBody: must be a mapping (the event the trigger sends)")
    return problems


def _check_environment(where: str, environment: Any) -> list[str]:
    if environment is None:
        return []
    if not isinstance(environment, dict):
        return [f"{where}: must be a mapping of variable names to strings"]
    return [
        f"{where}.{name}: is {type(value).__name__}; DigitalOcean takes strings only, so quote it "
        f'(for example "${{{name}}}")'
        for name, value in environment.items()
        if not isinstance(value, str)
    ]


def _check_name(where: str, name: Any) -> list[str]:
    if isinstance(name, str) and _NAME_RE.match(name):
        return []
    return [f"{where}.name: {name!r} is not a valid name (letters, digits, '_', '.', '-')"]


def _unknown_keys(where: str, mapping: dict[str, Any], allowed: frozenset[str]) -> list[str]:
    return [f"{where}.{key}: unknown key; allowed keys are {sorted(allowed)}" for key in mapping if key not in allowed]


def _parse(root: Path, document: dict[str, Any]) -> Project:
    functions = []
    for package in document["packages"]:
        package_environment = dict(package.get("environment") or {})
        for function in package["functions"]:
            triggers = tuple(
                Trigger(
                    name=trigger["name"],
                    cron=trigger["sourceDetails"]["cron"],
                    body=dict(trigger["sourceDetails"].get("withBody") or {}),
                )
                for trigger in function.get("triggers") or []
            )
            functions.append(
                Function(
                    package=package["name"],
                    name=function["name"],
                    web=function["web"],
                    timeout_ms=function["limits"]["timeout"],
                    memory_mb=function["limits"]["memory"],
                    environment={**package_environment, **(function.get("environment") or {})},
                    triggers=triggers,
                )
            )
    return Project(root=root, environment=dict(document.get("environment") or {}), functions=tuple(functions))


def template_variables(project: Project) -> set[str]:
    """Return the names of the `${VAR}` deploy-environment variables the project's environment uses."""
    values = list(project.environment.values())
    values += [value for function in project.functions for value in function.environment.values()]
    return {name for value in values for name in _TEMPLATE_RE.findall(value)}
