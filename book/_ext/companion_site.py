"""Sphinx extension of the book's site: MathJax served from the site, and only where needed.

MathJax comes from the locked ``sphinx-mathjax-offline`` package (no CDN: the site works
offline), but only the files the pages load are copied: the TeX-to-CHTML bundle, its fonts, the
TeX packages it autoloads and the accessibility tools its menu loads on request (about a quarter
of the package). A page without math does not load MathJax at all: Sphinx would load it on the
intro too, because the intro's table of contents includes pages that have math.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from docutils import nodes
from sphinx.util.fileutil import copy_asset

MATHJAX_BUNDLE = "tex-chtml.js"
MATHJAX_FILES = (MATHJAX_BUNDLE, "output/chtml/fonts/woff-v2", "input/tex/extensions",
                 "a11y", "sre", "ui")


def mathjax_source() -> Path:
    package = metadata.distribution("sphinx-mathjax-offline")
    return Path(package.locate_file("sphinx-mathjax-offline/static/mathjax"))


def copy_mathjax(app, exception) -> None:
    """Copy the MathJax files the pages use into ``_static/mathjax`` of a successful build."""
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    for name in MATHJAX_FILES:
        source = mathjax_source() / name
        destination = target / name
        if source.is_dir():
            copy_asset(str(source), str(destination))
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            copy_asset(str(source), str(destination.parent))


def has_math(doctree) -> bool:
    return doctree is not None and next(
        iter(doctree.findall(lambda node: isinstance(node, (nodes.math, nodes.math_block)))),
        None) is not None


def mathjax_only_with_math(app, pagename, templatename, context, doctree) -> None:
    """Remove MathJax and its configuration from a page that has no math of its own."""
    if has_math(doctree) or "script_files" not in context:
        return
    context["script_files"][:] = [
        script for script in context["script_files"]
        if "mathjax" not in (script.filename or "")
        and "MathJax" not in script.attributes.get("body", "")]


def setup(app):
    app.config.mathjax_path = f"mathjax/{MATHJAX_BUNDLE}"
    app.connect("html-page-context", mathjax_only_with_math, priority=900)
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
