"""The README is a five-minute read that points into docs/, and docs/ is a site that builds: `mkdocs build
--strict` passes on the repository (so the README's second command, and CI, build the docs), fails on a
broken link or anchor, and every relative link in the README resolves to a file."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import REPO

README_LIMIT = 12_000  # characters

# [text](target) and ![alt](target); the target ends at whitespace or the closing parenthesis.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def mkdocs_build(root: Path, site: Path) -> subprocess.CompletedProcess:
    try:
        import mkdocs  # noqa: F401
    except ImportError:  # pragma: no cover - the dev extra installs it
        pytest.fail('mkdocs is not installed: pip install -e ".[dev]"')
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )


def broken_relative_links(markdown: str, base: Path) -> list[str]:
    """Relative link targets in the text that name no file or folder under base (anchors are dropped)."""
    broken = []
    for target in LINK.findall(markdown):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            continue  # a URL (https:, mailto:) or an anchor on the same page
        path = target.split("#", 1)[0]
        if not (base / path).exists():
            broken.append(target)
    return broken


def test_the_docs_site_builds_strictly(tmp_path):
    site = tmp_path / "site"
    proc = mkdocs_build(REPO, site)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pages = sorted(p.stem for p in (REPO / "docs").glob("*.md"))
    for page in pages:  # every page is built (strict mode also fails on a page left out of the nav)
        built = site / ("index.html" if page == "index" else f"{page}/index.html")
        assert built.is_file(), page


@pytest.mark.parametrize(
    "link", ["[gone](no-such-page.md)", "[gone](tracks.md#no-such-section)", "[outside](../BRIEF.md)"]
)
def test_the_strict_build_fails_on_a_broken_link(tmp_path, link):
    copy = tmp_path / "repo"
    shutil.copytree(REPO / "docs", copy / "docs")
    shutil.copy(REPO / "mkdocs.yml", copy / "mkdocs.yml")
    index = copy / "docs" / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + f"\nSee {link}.\n", encoding="utf-8")
    proc = mkdocs_build(copy, tmp_path / "site")
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert link.split("(")[1].rstrip(")") in proc.stdout + proc.stderr


def test_the_readme_is_short():
    size = len((REPO / "README.md").read_text(encoding="utf-8"))
    assert size <= README_LIMIT, f"README.md is {size} characters; the rest belongs in docs/"


def test_every_relative_link_in_the_readme_resolves():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert LINK.findall(text), "the README links into docs/"
    assert broken_relative_links(text, REPO) == []


def test_the_link_check_finds_a_broken_link(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "here.md").write_text("# here\n")
    text = (
        "[ok](docs/here.md) [ok](docs/here.md#here) [web](https://example.org/x.md) [top](#top) "
        "[gone](docs/gone.md) [gone too](docs/gone.md#x)"
    )
    assert broken_relative_links(text, tmp_path) == ["docs/gone.md", "docs/gone.md#x"]
