"""The vague-result detector on its own: what counts as describing content instead of
carrying it, and what content a forced or substituted completion uses."""

from __future__ import annotations

import pytest

from soorma_lc.planners.vague import best_content, judge_completion, looks_vague_result, text_of

DRAFT = (
    "# Docker in practice\n\nDocker packages applications into containers: images are "
    "layered, containers share the host kernel, and volumes keep data beyond a container's "
    "life. This post walks through images, containers and volumes with examples."
)


@pytest.mark.parametrize(
    "completion",
    [
        "The draft is ready.",
        "I have completed the task; see above.",
        "Done.",
        '{"approved": true, "feedback": "accurate"}',
        "[]",
    ],
)
def test_descriptions_and_status_objects_are_vague(completion: str) -> None:
    assert judge_completion(completion, [DRAFT, "accurate"]) is not None


@pytest.mark.parametrize(
    "completion",
    [
        DRAFT,
        f"Your post is ready:\n\n{DRAFT}",
        '{"title": "Docker in practice", "body": "' + DRAFT.replace("\n", " ") + '"}',
        "Docker packages applications into containers; images are layered and volumes keep data.",
    ],
)
def test_content_passes(completion: str) -> None:
    assert judge_completion(completion, [DRAFT]) is None


def test_without_results_only_short_pointers_are_vague() -> None:
    assert judge_completion("The report is ready.", []) is not None
    assert judge_completion("No registered agent can write reports.", []) is None


def test_vague_worker_results_and_best_content() -> None:
    assert looks_vague_result({"draft": "The draft has been prepared."}) is not None
    assert looks_vague_result({"draft": DRAFT}) is None
    results = [
        {"data": {"findings": DRAFT}},
        {"data": {"draft": "The draft has been prepared."}, "vague": True},
        {"data": {"approved": True}},
    ]
    assert best_content(results) == DRAFT  # the latest substantive, non-vague result
    assert best_content([], {"_action_count": 2, "notes": "kept"}) == '{\n  "notes": "kept"\n}'
    assert best_content([]) is None
    assert text_of({"a": ["x", {"b": "longest text"}]}) == "longest text"
