"""Reading the config file into :class:`~plugin.settings.Settings`: ``${VAR}`` from the environment, every problem
with its file line, the default paths of the file, the data folder, the database and the queue.

The file is found through ``COCREATE_CONFIG`` (default ``./cocreate.yaml``); no file at all is valid and
means "no tracker connected yet". Every problem found is reported at once, each as
``FILE:LINE: dotted.key: message`` (see :class:`~plugin.errors.ConfigError`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from plugin.errors import ConfigError, ConfigProblem
from plugin.settings import Settings

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _node_lines(node: yaml.Node, path: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> None:
    """Record the 1-based line of every key and list item, keyed by its dotted path."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, str(key_node.value))
            lines[child] = key_node.start_mark.line + 1
            _node_lines(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, str(index))
            lines[child] = item.start_mark.line + 1
            _node_lines(item, child, lines)


def _substitute(value: Any, path: tuple[str, ...], environ: os._Environ | dict, missing: list) -> Any:
    if isinstance(value, dict):
        return {key: _substitute(item, (*path, str(key)), environ, missing) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, (*path, str(index)), environ, missing) for index, item in enumerate(value)]
    if isinstance(value, str):
        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name not in environ:
                missing.append((path, f"environment variable {name} is not set"))
                return ""
            return environ[name]
        return _ENV_REF.sub(replace, value)
    return value


def _line_for(lines: dict[tuple[str, ...], int], loc: tuple[str, ...]) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def parse_settings(text: str, source: str = "<config>", environ: dict | None = None) -> Settings:
    """Validate YAML text into :class:`Settings`, raising :class:`ConfigError` listing every problem."""
    environ = os.environ if environ is None else environ
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ConfigError([ConfigProblem(source, line, "(yaml)", f"not valid YAML: {exc.problem}")]) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(source, 1, "(root)", "the file must hold a mapping of keys")])
    lines: dict[tuple[str, ...], int] = {}
    if root is not None:
        _node_lines(root, (), lines)
    missing: list[tuple[tuple[str, ...], str]] = []
    data = _substitute(data, (), environ, missing)
    problems = [ConfigProblem(source, _line_for(lines, path), ".".join(path), message) for path, message in missing]
    missing_paths = {path for path, _ in missing}
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(str(part) for part in error["loc"] if not str(part).startswith("function-"))
            # Aliased locale keys and tagged unions add no key the user wrote; drop what is not in the file.
            loc = tuple(part for part in loc if part not in ("LocalizedText",))
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown key"
            # Whole-file checks report each problem on its own line, naming its key as "dotted.key: message".
            for line in message.split("\n"):
                where, said = loc, line
                named, _sep, rest = line.partition(": ")
                if not where and rest and tuple(named.split(".")) in lines:
                    where, said = tuple(named.split(".")), rest
                if where and any(path[: len(where)] == where for path in missing_paths):
                    continue  # follows from a missing variable, which is reported as the real cause
                problems.append(ConfigProblem(source, _line_for(lines, where), ".".join(where) or "(root)", said))
        settings = None
    if problems:
        raise ConfigError(sorted(problems, key=lambda problem: problem.line))
    assert settings is not None
    return settings


def config_path(environ: dict | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get("COCREATE_CONFIG", "cocreate.yaml"))


def config_source(path: str | os.PathLike | None = None, environ: dict | None = None) -> Path | None:
    """The config file ``load_settings`` reads for ``path`` (or ``COCREATE_CONFIG``, or ``./cocreate.yaml``), or
    None when there is none and the embedded defaults run."""
    environ = os.environ if environ is None else environ
    target = Path(path) if path is not None else config_path(environ)
    return target.resolve() if target.exists() else None


def load_settings(path: str | os.PathLike | None = None, environ: dict | None = None) -> Settings:
    """Read the config file; a missing default file gives the no-tracker defaults."""
    environ = os.environ if environ is None else environ
    explicit = path is not None or "COCREATE_CONFIG" in environ
    target = Path(path) if path is not None else config_path(environ)
    if not target.exists():
        if explicit:
            raise ConfigError([ConfigProblem(str(target), 1, "(file)", "no such file")])
        return Settings()
    return parse_settings(target.read_text(encoding="utf-8"), str(target), environ)


def data_home(settings: Settings, environ: dict | None = None) -> Path:
    """The folder for the SQLite files and uploads: COCREATE_HOME, then ``home``, then ./cocreate-data."""
    environ = os.environ if environ is None else environ
    return Path(environ.get("COCREATE_HOME") or settings.home or "cocreate-data").resolve()


def database_url(settings: Settings, environ: dict | None = None) -> str:
    environ = os.environ if environ is None else environ
    url = environ.get("COCREATE_DATABASE_URL") or settings.database_url
    return url or f"sqlite:///{data_home(settings, environ) / 'cocreate.db'}"


def queue_url(settings: Settings, environ: dict | None = None) -> str | None:
    environ = os.environ if environ is None else environ
    return environ.get("COCREATE_QUEUE_URL") or settings.queue.url
