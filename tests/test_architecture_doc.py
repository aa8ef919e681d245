"""docs/architecture.rst names every module of the package, and only modules that exist: a module added,
moved or removed without the page following fails here.

A module is named by its path from the package (````sync/state.py````) anywhere on the page, or by its file
name in the body of an entry whose term names its folder (````receivers/```` … ````contacts.py````); a
package's ``__init__.py`` is named with its folder."""
import re
from pathlib import Path

import shoop_mailchimp

PACKAGE = Path(shoop_mailchimp.__file__).parent
DOC = PACKAGE.parent / "docs" / "architecture.rst"
LITERAL = re.compile(r"``([A-Za-z0-9_./]+?(?:\.py|/))``")


def entries(text):
    """[(term, body)] of the page's definition lists: a term at the margin, its body indented below it."""
    found, term, body = [], None, []
    for line in text.splitlines():
        if line.strip() and not line.startswith(" "):
            if term is not None:
                found.append((term, "\n".join(body)))
            term, body = line, []
        elif term is not None:
            body.append(line)
    if term is not None:
        found.append((term, "\n".join(body)))
    return found


def references(text):
    """[(literal, the paths from the package it may mean)] of the page: a file or folder as written
    ("sync/state.py", "receivers/"), and a file name in the body of a folder's entry in that folder too."""
    found = []
    for term, body in entries(text):
        folders = [literal for literal in LITERAL.findall(term) if literal.endswith("/")]
        found += [(literal, [literal]) for literal in LITERAL.findall(term)]
        found += [(literal, [literal] + [folder + literal for folder in folders]) for literal in LITERAL.findall(body)]
    return found


def named_paths(text):
    """Every path (from the package) the page may mean: a module is named when its path is one of them."""
    return {path for _literal, paths in references(text) for path in paths}


def package_modules():
    return sorted(path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py")
                  if "migrations" not in path.relative_to(PACKAGE).parts)


def exists(path):
    """Whether the package has it; a path of the project's tests (``tests/…``) is the repository's."""
    base = PACKAGE.parent if path.startswith("tests/") else PACKAGE
    return (base / path).is_dir() if path.endswith("/") else (base / path).is_file()


def unnamed(modules, named):
    def is_named(module):
        if module.endswith("__init__.py"):
            folder = module[:-len("__init__.py")]
            return module in named or folder in named or folder == ""
        return module in named

    return [module for module in modules if not is_named(module)]


def test_every_module_of_the_package_is_named():
    assert unnamed(package_modules(), named_paths(DOC.read_text(encoding="utf-8"))) == []


def test_every_module_named_exists():
    missing = [literal for literal, paths in references(DOC.read_text(encoding="utf-8"))
               if not any(exists(path) for path in paths)]
    assert missing == []


def test_a_module_left_out_or_made_up_is_found():
    text = ("Modules\n-------\n\n``receivers/``\n    ``contacts.py`` and ``ghost.py``\n"
            "``sync/state.py``\n    The rows.\n")
    named = named_paths(text)
    assert {"receivers/", "receivers/contacts.py", "sync/state.py", "receivers/ghost.py"} <= named
    assert unnamed(["receivers/__init__.py", "receivers/contacts.py", "receivers/groups.py", "sync/state.py"],
                   named) == ["receivers/groups.py"]
    assert [literal for literal, paths in references(text) if not any(exists(path) for path in paths)] == [
        "ghost.py"]
