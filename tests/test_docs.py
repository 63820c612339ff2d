"""The documentation a fresh clone has: every link in README.md and docs/ points at a file
inside the repository (README pointed at ../shared/DESIGN.md, which a clone lacks)."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR).resolve()
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_readme_and_docs_link_only_to_files_in_the_repository():
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for document in documents:
        for target in LINK.findall(document.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a web address or an anchor in the same file
            path = (document.parent / target.split("#")[0]).resolve()
            if not path.is_relative_to(ROOT) or not path.exists():
                broken.append(f"{document.relative_to(ROOT)}: {target}")
    assert broken == []


def test_the_design_document_is_the_repositorys_own():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/design.md)" in readme
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    for contract in (
        "`energy-power`",
        "`industry-apps`",
        "/participants/export.csv",
        "name_en,name_zh,segment",
    ):
        assert contract in design
