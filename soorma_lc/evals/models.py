"""Which chat model plans in a trial: the scenario's script, the offline baseline, or an LLM.

Model names in a run: ``scripted`` (each scenario's scripted model; scripted mode only),
``offline`` (the :class:`~soorma_lc.llm.OfflinePlannerModel` heuristic, any mode: the
baseline every report can show) and litellm model strings (replay and live modes; by default
``SOORMA_LLM_MODEL``).
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel

from soorma_lc.config import Settings, resolve_settings
from soorma_lc.errors import ConfigurationError
from soorma_lc.evals.modes import MODES, Mode
from soorma_lc.evals.problems import TrialProblems
from soorma_lc.evals.scenario import PlannerSpec, Scenario
from soorma_lc.evals.scripted import SCRIPTED_MODEL_NAME, ScriptedPlannerModel

OFFLINE = "offline"
SCRIPTED = SCRIPTED_MODEL_NAME
DETERMINISTIC = frozenset({SCRIPTED, OFFLINE})
"""Models whose runs do not vary: any change in their results is a change of behaviour."""


def check_models(mode: Mode, models: Sequence[str]) -> list[str]:
    """The run's models, checked against the mode (:class:`ConfigurationError` if wrong)."""
    if mode not in MODES:
        raise ConfigurationError(f"mode must be one of {', '.join(MODES)} (got {mode!r})")
    chosen = list(dict.fromkeys(models)) or [_default_model(mode)]
    for model in chosen:
        if model == SCRIPTED and mode != "scripted":
            raise ConfigurationError("the scripted model plays only in scripted mode")
        if model not in DETERMINISTIC and mode == "scripted":
            raise ConfigurationError(
                f"{model!r} is an LLM: run it with --mode live (or replay its cassettes with "
                "--mode replay); scripted mode runs 'scripted' and 'offline'"
            )
    return chosen


def _default_model(mode: Mode) -> str:
    """scripted in scripted mode; otherwise the configured LLM (``SOORMA_LLM_MODEL``)."""
    if mode == "scripted":
        return SCRIPTED
    configured = resolve_settings(None).llm_model
    if not configured:
        raise ConfigurationError(
            f"{mode} mode needs a model: name one (a litellm model string, or offline) or set "
            "SOORMA_LLM_MODEL"
        )
    return configured


def planner_model(
    model: str,
    scenario: Scenario,
    planner: PlannerSpec,
    *,
    mode: Mode,
    settings: Settings,
    problems: TrialProblems,
    temperature: float | None = None,
) -> BaseChatModel:
    """The chat model ``planner`` of ``scenario`` plans with in a trial of ``model``."""
    if model == SCRIPTED:
        return ScriptedPlannerModel(
            turns=scenario.script_for(planner.name), problems=problems, planner=planner.name
        )
    if model == OFFLINE:
        from soorma_lc.llm import OfflinePlannerModel

        return OfflinePlannerModel()
    from soorma_lc.llm import resolve_model

    options: dict[str, object] = {} if temperature is None else {"temperature": temperature}
    if mode == "replay":
        options["max_retries"] = 0  # a miss is final: retrying would only miss again
    return resolve_model(model, settings, **options)
