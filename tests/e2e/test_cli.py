"""``sync --once``, ``plan``, ``status`` and ``check`` as a CI job would run them."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from daemon.engine.translators.pseudo import pseudo_translate
from tests.e2e.harness import ENGINE_KEY, SOURCE, WEBHOOK_SECRET, EngineProcess, Project, git


def test_sync_once_in_polling_mode_against_a_standalone_engine(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path / "engine")
    try:
        project = Project(tmp_path / "repo", provider={"kind": "lingo", "baseUrl": engine.url})
        result = project.cli("sync", "--once")
        assert result.returncode == 0, result.stderr[-2000:]
        assert '"mode": "polling"' in result.stderr
        assert project.read("fr")["home"]["title"] == pseudo_translate("Welcome to {appName}", "fr")
        assert project.read("fr")["meta"]["build"] == "2026.11"  # locked: copied, not translated
        assert engine.stats()["deliveries_attempted"] == 0  # no callback URL was sent
        check = project.cli("check")
        assert check.returncode == 0 and "reachable, API key accepted; mode: polling" in check.stdout
        status = project.cli("status")
        assert "locales/[locale].json: 2 of 2 languages ready" in status.stdout
        for output in (result.stderr, check.stdout, check.stderr, status.stdout):
            assert ENGINE_KEY not in output and WEBHOOK_SECRET not in output

        # nothing changed: a second run sends nothing and commits nothing
        before = project.commits()
        again = project.cli("sync", "--once")
        assert again.returncode == 0
        assert engine.stats()["groups_created"] == 1
        assert project.commits() == before
    finally:
        engine.stop()
    for log in (tmp_path / "engine").glob("*.log"):
        assert ENGINE_KEY not in log.read_text() and WEBHOOK_SECRET[6:] not in log.read_text()


def test_failed_locale_makes_sync_once_exit_non_zero_but_others_ship(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path / "engine")
    try:
        engine.knobs(fail_locales=["fr"])
        project = Project(tmp_path / "repo", provider={"kind": "lingo", "baseUrl": engine.url})
        result = project.cli("sync", "--once")
        assert result.returncode == 1
        assert "failed: locales/[locale].json [fr]" in result.stderr
        assert project.read("de")["cart"]["empty"] == pseudo_translate("Your cart is empty", "de")
        assert "empty" not in project.read("fr").get("cart", {})
        status = project.cli("status")
        assert "1 of 2 languages ready" in status.stdout and "fr: failed" in status.stdout
    finally:
        engine.stop()


def test_ignored_preserved_and_deleted_keys(tmp_path: Path) -> None:
    project = Project(tmp_path / "repo")
    config = json.loads(project.config_path.read_text())
    config["sources"][0]["ignoredKeys"] = ["debug"]
    config["sources"][0]["preservedKeys"] = ["legal/imprint"]
    project.config_path.write_text(json.dumps(config))
    source = copy.deepcopy(SOURCE)
    source["debug"] = {"note": "internal"}
    source["legal"] = {"imprint": "Imprint"}
    project.write_source(source)
    assert project.cli("sync", "--once").returncode == 0
    de = project.read("de")
    assert "debug" not in de
    assert de["legal"]["imprint"] == pseudo_translate("Imprint", "de")

    de["legal"]["imprint"] = "Impressum (juristisch geprüft)"
    (project.root / "locales/de.json").write_text(json.dumps(de, indent=2, ensure_ascii=False) + "\n")
    source["legal"]["imprint"] = "Imprint, revised"
    del source["cart"]["checkout"]
    project.write_source(source)
    plan = project.cli("plan", "--json")
    de_plan = json.loads(plan.stdout)["documents"][0]["locales"][0]
    assert de_plan["send"] == []
    assert de_plan["delete"] == ["cart/checkout"]
    assert de_plan["reasons"]["cart/checkout"] == "deleted from source"
    assert project.cli("sync", "--once").returncode == 0
    de = project.read("de")
    assert de["legal"]["imprint"] == "Impressum (juristisch geprüft)"
    assert "checkout" not in de["cart"]


def test_mass_deletion_stops_until_allowed(tmp_path: Path) -> None:
    project = Project(tmp_path / "repo")
    assert project.cli("sync", "--once").returncode == 0
    git(project.root, "add", "-A")
    before_de = project.raw("de")
    commits = project.commits()
    project.write_source({"home": {"title": "Welcome to {appName}"}, "meta": {"build": "2026.11"}})
    result = project.cli("sync", "--once")
    assert result.returncode == 1
    assert "would delete 4 of 6 keys" in result.stderr and "--allow-deletions" in result.stderr
    assert project.raw("de") == before_de and project.commits() == commits
    assert project.cli("sync", "--once", "--allow-deletions").returncode == 0
    assert project.read("de") == {"home": {"title": pseudo_translate("Welcome to {appName}", "de")},
                                  "meta": {"build": "2026.11"}}


def test_source_locale_file_is_never_written(tmp_path: Path) -> None:
    project = Project(tmp_path / "repo")
    source_bytes = (project.root / "locales/en.json").read_bytes()
    assert project.cli("sync", "--once").returncode == 0
    assert (project.root / "locales/en.json").read_bytes() == source_bytes
    changed = git(project.root, "show", "--name-only", "--format=", "HEAD").split()
    assert changed == ["locales/de.json", "locales/fr.json"]


def test_config_error_exit_code_and_message(tmp_path: Path) -> None:
    project = Project(tmp_path / "repo")
    project.config_path.write_text(project.config_path.read_text().replace('"targetLocales"', '"targetLocale"'))
    result = project.cli("check")
    assert result.returncode == 2
    assert "targetLocale: unknown key (did you mean 'targetLocales'?)" in result.stderr
