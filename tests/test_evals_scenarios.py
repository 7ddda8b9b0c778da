"""Scenario files: the format, its shorthand, 'extends', and a typed error for every mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from soorma_lc.errors import ScenarioError, SoormaError
from soorma_lc.evals.scenario import payload_schema
from soorma_lc.evals.suite import load_scenario, load_suite, scenario_files
from tests.evals_helpers import ECHO, echo, scenario, write_suite


def test_yaml_and_json_files_load_to_the_same_scenario(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(ECHO), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(ECHO), encoding="utf-8")

    assert load_scenario(tmp_path / "a.yaml") == load_scenario(tmp_path / "b.json")


def test_payload_shorthand_becomes_a_json_schema() -> None:
    assert payload_schema({"topic": "string", "depth": "integer?"}) == {
        "type": "object",
        "properties": {"topic": {"type": "string"}, "depth": {"type": "integer"}},
        "required": ["topic"],
    }
    full = {"type": "object", "properties": {"a": {"type": "string", "minLength": 2}}}
    assert payload_schema(full) is full


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"soorma_eval": 2}, "version 2 is not supported"),
        ({"expect": {"statu": "completed"}}, "expect.statu: Extra inputs are not permitted"),
        ({"id": "Has Spaces"}, "id: String should match pattern"),
        ({"registry": {"events": [{"name": "x", "payload": {"a": "text"}}]}}, "not a JSON type"),
        ({"registry": {"events": [{"name": "has space"}]}}, "contains whitespace"),
        ({"script": [{"args": {"a": 1}}]}, "args, raw and also need a call"),
        ({"script": [{"error": "unavailable", "say": "x"}]}, "a failing turn"),
        (
            {"workers": [{"name": "w", "consumes": ["nope"], "replies": [{"data": {}}]}]},
            "consumes ['nope'], which registry.events lacks",
        ),
        (
            {"workers": [{"name": "w", "consumes": ["echo.requested"], "replies": [{}]}]},
            "exactly one of data, fail or silent",
        ),
        ({"planner": {"name": "echoer"}}, "agent names must be unique"),
        (
            {"expect": {"payloads": [{"event": "echo.requested", "occurrence": 0}]}},
            "occurrence counts from 1",
        ),
    ],
)
def test_mistakes_are_scenario_errors_naming_the_place(
    tmp_path: Path, changes: dict, problem: str
) -> None:
    [path] = write_suite(tmp_path, echo(**changes)).glob("*.yaml")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert problem in str(caught.value)
    assert str(path) in str(caught.value) and isinstance(caught.value, SoormaError)


def test_unreadable_files_and_folders_without_scenarios_are_errors(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("soorma_eval: 1\nid: [unclosed", encoding="utf-8")
    with pytest.raises(ScenarioError, match="cannot read it"):
        load_scenario(tmp_path / "broken.yaml")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.yaml").write_text("title: not a scenario\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="no scenario files"):
        load_suite(empty)
    with pytest.raises(ScenarioError, match="no such file"):
        load_suite(tmp_path / "missing")


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    write_suite(tmp_path / "a", echo())
    write_suite(tmp_path / "b", echo())
    with pytest.raises(ScenarioError, match="id 'echo' is also used by"):
        load_suite(tmp_path)


def test_only_marked_files_outside_hidden_folders_are_scenarios(tmp_path: Path) -> None:
    write_suite(tmp_path, echo())
    write_suite(tmp_path / "_shared", echo(id="base"))
    write_suite(tmp_path / ".hidden", echo(id="hidden"))
    (tmp_path / "config.yaml").write_text("other: 1\n", encoding="utf-8")
    (tmp_path / "x.cassette.json").write_text("{}", encoding="utf-8")

    assert scenario_files(tmp_path) == [tmp_path / "echo.yaml"]


def test_extends_merges_sections_field_by_field(tmp_path: Path) -> None:
    base = {k: v for k, v in ECHO.items() if k not in ("soorma_eval", "id")}
    (tmp_path / "_base.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    child = {
        "soorma_eval": 1,
        "extends": "_base.yaml",
        "id": "child",
        "goal": {"data": {"word": "bye"}},
        "planner": {"max_actions": 2},
    }
    (tmp_path / "child.yaml").write_text(yaml.safe_dump(child), encoding="utf-8")

    loaded = load_scenario(tmp_path / "child.yaml")

    assert loaded.goal.event == "echo.goal" and loaded.goal.data == {"word": "bye"}
    assert loaded.planner.max_actions == 2 and loaded.registry.events[0].name == "echo.requested"


def test_extends_cycles_and_missing_bases_are_errors(tmp_path: Path) -> None:
    loop = echo(extends="loop.yaml", id="loop")
    (tmp_path / "loop.yaml").write_text(yaml.safe_dump(loop), encoding="utf-8")
    with pytest.raises(ScenarioError, match="extends itself"):
        load_scenario(tmp_path / "loop.yaml")
    orphan = echo(extends="nowhere.yaml")
    (tmp_path / "orphan.yaml").write_text(yaml.safe_dump(orphan), encoding="utf-8")
    with pytest.raises(ScenarioError, match="no file"):
        load_scenario(tmp_path / "orphan.yaml")


def test_the_suite_hash_follows_content_not_formatting(tmp_path: Path) -> None:
    write_suite(tmp_path / "one", echo())
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / "echo.json").write_text(json.dumps(ECHO, indent=4), encoding="utf-8")
    write_suite(tmp_path / "three", echo(title="Echo twice"))

    hashes = [load_suite(tmp_path / name).hash for name in ("one", "two", "three")]

    assert hashes[0] == hashes[1] != hashes[2]


def test_selection_by_id_pattern_and_tag(tmp_path: Path) -> None:
    write_suite(tmp_path, echo(), echo(id="echo-loud", tags=["loud"]), echo(id="other", tags=[]))
    suite = load_suite(tmp_path)

    assert sorted(s.id for s in suite.selected(["echo*"]).scenarios) == ["echo", "echo-loud"]
    assert [s.id for s in suite.selected(tags=["loud"]).scenarios] == ["echo-loud"]


def test_scripted_expectations_replace_fields_for_the_scripted_model_only() -> None:
    loaded = scenario(expect_scripted={"status": "failed", "rejections": {"max": 0}})

    scripted = loaded.expectations(scripted=True)
    any_model = loaded.expectations(scripted=False)

    assert (scripted.status, any_model.status) == ("failed", "completed")
    assert scripted.rejections is not None and any_model.rejections is None
    assert scripted.trajectory == any_model.trajectory  # not given: kept


def test_planner_policies_and_steering_are_part_of_the_format(tmp_path: Path) -> None:
    loaded = scenario(
        planner={
            "retry": {"attempts": 1},
            "budget": {"tokens": 500, "seconds": 2},
            "escalation": {"timeout": 5},
        },
        review={"approve": False},
        cancel={"waiting_for": "echo.requested"},
    )
    assert loaded.planner.retry is not None and loaded.planner.retry.backoff == 2.0
    assert loaded.review is not None and loaded.cancel is not None
    broken = echo(
        registry={"events": [{"name": "echo.requested", "compensation": {"payload": {}}}]}
    )
    [path] = write_suite(tmp_path, broken).glob("*.yaml")
    with pytest.raises(ScenarioError, match="must be an object with an 'event' name"):
        load_scenario(path)
