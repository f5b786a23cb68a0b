"""A String Catalog holds every locale in one file: locsync fills in the target locales in place."""

from __future__ import annotations

import json
from pathlib import Path

from daemon.engine.translators.pseudo import pseudo_translate
from tests.e2e.harness import Project, git

CATALOG = """{
  "sourceLanguage" : "en",
  "strings" : {
    "Cancel" : {

    },
    "greeting" : {
      "localizations" : {
        "en" : {
          "stringUnit" : {
            "state" : "translated",
            "value" : "Hello %@"
          }
        }
      }
    }
  },
  "version" : "1.0"
}"""


def test_string_catalog_targets_are_written_into_the_same_file(tmp_path: Path) -> None:
    project = Project(tmp_path / "repo")
    (project.root / "Localizable.xcstrings").write_text(CATALOG)
    config = json.loads(project.config_path.read_text())
    config["sources"] = [{"format": "xcstrings", "include": ["Localizable.xcstrings"], "sourceLocale": "en",
                          "targetLocales": ["de", "fr"]}]
    project.config_path.write_text(json.dumps(config))
    git(project.root, "add", "-A")
    git(project.root, "commit", "-qm", "catalog")
    result = project.cli("sync", "--once")
    assert result.returncode == 0, result.stderr[-2000:]
    catalog = json.loads((project.root / "Localizable.xcstrings").read_text())
    for locale in ("de", "fr"):
        greeting = catalog["strings"]["greeting"]["localizations"][locale]["stringUnit"]
        assert greeting == {"state": "translated", "value": pseudo_translate("Hello %@", locale)}
        cancel = catalog["strings"]["Cancel"]["localizations"][locale]["stringUnit"]
        assert cancel["value"] == pseudo_translate("Cancel", locale)
    assert catalog["strings"]["greeting"]["localizations"]["en"]["stringUnit"]["value"] == "Hello %@"
    changed = git(project.root, "show", "--name-only", "--format=", "HEAD").split()
    assert changed == ["Localizable.xcstrings"]
    again = project.cli("sync", "--once")
    assert again.returncode == 0 and len(project.commits()) == 3  # initial, catalog, one locsync commit
