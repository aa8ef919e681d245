"""Sphinx configuration: plain reST, no autodoc (the docs build needs only Sphinx)."""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))

with open(os.path.join(HERE, "..", "shoop_mailchimp", "__init__.py"), encoding="utf-8") as handle:
    release = re.search(r'^__version__ = "([^"]+)"', handle.read(), re.M).group(1)

project = "shoop_mailchimp"
author = "shoop_mailchimp contributors"
copyright = "shoop_mailchimp contributors"
version = release
extensions = []
exclude_patterns = ["_build"]
master_doc = "index"
highlight_language = "default"

try:
    import sphinx_rtd_theme  # noqa: F401

    html_theme = "sphinx_rtd_theme"
except ImportError:
    html_theme = "alabaster"
