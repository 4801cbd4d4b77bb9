"""The apps import one way: each app imports only the apps below it, never one above it.

Every import in an app's modules counts, those inside functions too (an import deferred for speed is still
a dependency), and so does an app's template loading another app's template tags. Migrations are left out:
they name other apps' models by label, as Django writes them.
"""

import ast
import re

from tests.conftest import REPO_ROOT

# From the foundation up; the README's layout table lists them in this order.
LAYERS = ("accounts", "core", "jobs", "imagesets", "training", "studies", "metrics", "analysis", "site")

# Siblings in the README's words: a study's pool is filled from a grid's sets, so studies reads training's models.
ALLOWED_SIDEWAYS = {("studies", "training")}


def imported_modules(path):
    """Every module that the module at ``path`` imports by absolute name, anywhere in it."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def imported_apps(path):
    """The ratingsite apps that the module at ``path`` imports."""
    parts = (name.split(".") for name in imported_modules(path))
    return {part[1] for part in parts if part[0] == "ratingsite" and len(part) > 1} & set(LAYERS)


def upward_imports():
    upward = []
    for layer, app in enumerate(LAYERS):
        for path in sorted((REPO_ROOT / "ratingsite" / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for other in sorted(imported_apps(path)):
                if LAYERS.index(other) > layer and (app, other) not in ALLOWED_SIDEWAYS:
                    upward.append(f"{path.relative_to(REPO_ROOT)} imports ratingsite.{other}")
    return upward


def test_every_app_is_in_the_layers():
    apps = {path.parent.name for path in (REPO_ROOT / "ratingsite").glob("*/apps.py")}
    assert apps == set(LAYERS)


def test_no_app_imports_an_app_above_it():
    assert upward_imports() == []


def tag_libraries():
    """Each ratingsite template tag library's name, with the app that defines it."""
    return {path.stem: path.parent.parent.name for path in (REPO_ROOT / "ratingsite").glob("*/templatetags/*.py")}


def test_no_apps_template_loads_the_tags_of_an_app_above_it():
    libraries = tag_libraries()
    upward = []
    for layer, app in enumerate(LAYERS):
        for path in sorted((REPO_ROOT / "templates" / app).rglob("*.html")):
            for loaded in re.findall(r"{%\s*load\s+([^%]+?)\s*%}", path.read_text()):
                for library in loaded.split():
                    owner = libraries.get(library)
                    if owner is not None and LAYERS.index(owner) > layer:
                        upward.append(f"{path.relative_to(REPO_ROOT)} loads {library} of ratingsite.{owner}")
    assert upward == []


def test_the_libraries_import_no_django_and_synthesis_no_evaluation():
    forbidden = {"synthesis": {"django", "ratingsite", "evaluation"}, "evaluation": {"django", "ratingsite"}}
    found = [
        f"{path.relative_to(REPO_ROOT)} imports {name}"
        for library, roots in forbidden.items()
        for path in sorted((REPO_ROOT / library).rglob("*.py"))
        for name in imported_modules(path)
        if name.split(".")[0] in roots
    ]
    assert found == []
