"""A target gets the plural categories its locale needs, and the job asks for them."""

from __future__ import annotations

import json
from pathlib import Path

from daemon.engine.translators.pseudo import pseudo_translate
from tests.e2e.harness import Project, git


def test_polish_and_japanese_targets_get_their_own_plural_forms(tmp_path: Path) -> None:
    project = Project(tmp_path / "repo")
    config = json.loads(project.config_path.read_text())
    config["sources"][0].update({"format": "i18next", "targetLocales": ["pl", "ja"], "lockedKeys": []})
    project.config_path.write_text(json.dumps(config))
    source = {"title": "Cart", "items_one": "{{count}} item", "items_other": "{{count}} items"}
    project.write_source(source)
    git(project.root, "commit", "-qam", "i18next source")
    result = project.cli("sync", "--once")
    assert result.returncode == 0, result.stderr[-2000:]
    pl = project.read("pl")
    assert list(pl) == ["title", "items_one", "items_few", "items_many", "items_other"]
    assert pl["items_few"] == pseudo_translate("{{count}} items", "pl")
    assert pl["items_one"] == pseudo_translate("{{count}} item", "pl")
    assert project.read("ja") == {"title": pseudo_translate("Cart", "ja"),
                                  "items_other": pseudo_translate("{{count}} items", "ja")}
    submitted = [json.loads(line) for line in result.stderr.splitlines() if '"submission_queued"' in line]
    assert submitted and submitted[0]["keys"] == 5  # title + one, few, many, other
