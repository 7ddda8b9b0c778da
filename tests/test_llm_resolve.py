"""resolve_model: model strings, chat model instances, the offline default, settings and the
options users can get wrong."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

import soorma_lc
from soorma_lc.config import Settings
from soorma_lc.errors import ConfigurationError, InvalidArgumentError
from soorma_lc.llm import LiteLLMChatModel, OfflinePlannerModel, resolve_model
from soorma_lc.llm import resolve as resolve_module
from soorma_lc.llm.chat_model import litellm_route


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in os.environ:
        if name.startswith("SOORMA_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_a_model_string_gets_the_settings_fallbacks_timeout_and_retries() -> None:
    settings = Settings(
        llm_model="openai/gpt-4o-mini",
        llm_fallbacks=["anthropic/claude-haiku-4-5"],
        llm_timeout=12.5,
        llm_max_retries=4,
    )
    model = resolve_model(settings=settings)
    assert isinstance(model, LiteLLMChatModel)
    assert (model.model, model.fallbacks) == ("openai/gpt-4o-mini", ["anthropic/claude-haiku-4-5"])
    assert (model.timeout, model.max_retries) == (12.5, 4)


def test_options_override_the_settings() -> None:
    settings = Settings(llm_fallbacks=["anthropic/claude-haiku-4-5"], llm_max_retries=4)
    model = resolve_model("ollama/llama3.1", settings, fallbacks=[], max_retries=0)
    assert isinstance(model, LiteLLMChatModel)
    assert (model.fallbacks, model.max_retries) == ([], 0)


def test_a_chat_model_instance_is_returned_as_is() -> None:
    chat = FakeListChatModel(responses=["hi"])
    assert resolve_model(chat) is chat
    with pytest.raises(ConfigurationError, match="configure the instance"):
        resolve_model(chat, timeout=3)


def test_nothing_configured_means_the_offline_model_said_once(
    clean_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clean_env.setattr(resolve_module, "_told_offline", False)
    with caplog.at_level(logging.INFO, logger="soorma_lc.llm.resolve"):
        first, second = resolve_model(), resolve_model(settings=Settings())
    assert isinstance(first, OfflinePlannerModel) and isinstance(second, OfflinePlannerModel)
    told = [r for r in caplog.records if "no LLM configured" in r.getMessage()]
    assert len(told) == 1 and told[0].levelno == logging.INFO


def test_soorma_llm_model_is_the_default(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SOORMA_LLM_MODEL", "gemini/gemini-2.5-flash")
    clean_env.setenv("SOORMA_LLM_FALLBACKS", "openai/gpt-4o-mini, anthropic/claude-haiku-4-5")
    model = resolve_model()
    assert isinstance(model, LiteLLMChatModel)
    assert model.model == "gemini/gemini-2.5-flash"
    assert model.fallbacks == ["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"]


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        (
            "openai/gpt-4o-mini,anthropic/claude-haiku-4-5",
            ["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"],
        ),
        ('["openai/gpt-4o-mini", "ollama/llama3.1"]', ["openai/gpt-4o-mini", "ollama/llama3.1"]),
        (" openai/gpt-4o , ", ["openai/gpt-4o"]),
        ("", []),
    ],
)
def test_fallbacks_read_from_a_comma_list_or_json(
    clean_env: pytest.MonkeyPatch, raw: str, parsed: list[str]
) -> None:
    clean_env.setenv("SOORMA_LLM_FALLBACKS", raw)
    assert Settings().llm_fallbacks == parsed


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SOORMA_LLM_FALLBACKS", '["unclosed"'),
        ("SOORMA_LLM_TIMEOUT", "0"),
        ("SOORMA_LLM_MAX_RETRIES", "-1"),
    ],
)
def test_bad_llm_settings_are_refused(clean_env: pytest.MonkeyPatch, name: str, value: str) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(InvalidArgumentError, match=name.removeprefix("SOORMA_").lower()):
        Settings()


@pytest.mark.parametrize(
    ("spec", "options", "message"),
    [
        ("  ", {}, "empty"),
        (42, {}, "litellm model string or a LangChain BaseChatModel"),
        ("openai/gpt-4o-mini", {"temprature": 0.2}, "no option"),
        ("openai/gpt-4o-mini", {"max_retries": -2}, "invalid LiteLLMChatModel options"),
        (None, {"temperature": 0.2}, "OfflinePlannerModel has no option"),
    ],
)
def test_unusable_specs_and_options_are_configuration_errors(
    clean_env: pytest.MonkeyPatch, spec: object, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        resolve_model(spec, **options)  # type: ignore[arg-type]


def test_ollama_strings_use_the_chat_api() -> None:
    assert litellm_route("ollama/llama3.1") == "ollama_chat/llama3.1"
    assert litellm_route("ollama_chat/llama3.1") == "ollama_chat/llama3.1"
    assert litellm_route("openai/gpt-4o-mini") == "openai/gpt-4o-mini"


def test_the_models_layer_is_public() -> None:
    for name in ("resolve_model", "OfflinePlannerModel", "LiteLLMChatModel", "ModelError"):
        assert name in soorma_lc.__all__
        assert getattr(soorma_lc, name) is not None


def test_the_offline_model_never_imports_litellm() -> None:
    code = (
        "import sys; from soorma_lc import resolve_model; "
        "from langchain_core.messages import HumanMessage; "
        "resolve_model().bind_tools([]).invoke([HumanMessage('hi')]); "
        "print('litellm' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOORMA_")}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
