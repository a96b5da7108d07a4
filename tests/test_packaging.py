"""The packaging guard: ``plugin``, ``webhooks`` and ``sync`` are Cocreate's alone, ``config`` and ``tests`` are never
installed, and every file the code reads at run time ships with it."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import setuptools

ROOT = Path(__file__).resolve().parents[1]
OURS = ("plugin", "webhooks", "sync")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def installed_packages() -> list[str]:
    """The packages the distribution installs, by the rule pyproject.toml gives setuptools."""
    return setuptools.find_packages(where=ROOT, include=PYPROJECT["packages"]["find"]["include"])


def test_no_other_installed_distribution_provides_our_import_names():
    providers = importlib.metadata.packages_distributions()
    for name in OURS:
        assert set(providers.get(name, [])) == {"cocreate"}, f"{name} is also provided by {providers.get(name)}"


def test_config_and_tests_are_never_installed():
    packages = installed_packages()
    assert {package.split(".")[0] for package in packages} == set(OURS)
    assert not (ROOT / "config" / "__init__.py").exists(), "config/ holds data only"


def test_every_package_folder_is_installed():
    """A folder of Python modules without ``__init__.py`` would be left out of the wheel without a word."""
    packages = set(installed_packages())
    for name in OURS:
        for init in (ROOT / name).rglob("*.py"):
            folder = init.parent.relative_to(ROOT)
            dotted = ".".join(folder.parts)
            if dotted in packages or _as_package_data(init):
                continue
            raise AssertionError(f"{init.relative_to(ROOT)} is in no installed package and in no package-data")


def _as_package_data(path: Path) -> bool:
    """Whether ``path`` is matched by a ``package-data`` pattern of the package above it."""
    for package, patterns in PYPROJECT["package-data"].items():
        base = ROOT / package.replace(".", "/")
        if base in path.parents and any(path in set(base.glob(pattern)) for pattern in patterns):
            return True
    return False


def test_files_read_at_run_time_are_package_data():
    """Migrations, templates, translations, the stylesheet and the OpenAPI document ship with the code."""
    wanted = [
        *(ROOT / "sync/ledger/migrations").rglob("*.py"),
        ROOT / "sync/ledger/migrations/script.py.mako",
        *(ROOT / "webhooks/templates").rglob("*.html"),
        *(ROOT / "webhooks/static").rglob("*.*"),
        *(ROOT / "webhooks/translations").glob("*/LC_MESSAGES/messages.mo"),
        ROOT / "webhooks/openapi.json",
    ]
    assert len(wanted) > 20
    missing = [str(path.relative_to(ROOT)) for path in wanted if not _as_package_data(path)]
    assert missing == []
