"""What the research advisor's workers do with text, offline and deterministic: pick findings
from search hits, compose a briefing from findings, and check a draft against findings.

Pure functions, so the demo's output is the same on every run and the rules are easy to test.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

MAX_FINDINGS = 4
MIN_SCORE = 0.12
"""Search hits below this similarity are never findings (the offline embeddings' scale)."""
RELATIVE_SCORE = 0.35
"""Nor are hits scoring below this share of the best hit's score."""
SENTENCES_PER_FINDING = 2

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[a-z0-9]+")
_CITATION = re.compile(r"\[([A-Za-z0-9_.-]+\.md)\]")
_STOP = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "how",
        "in",
        "is",
        "it",
        "of",
        "on",
        "or",
        "the",
        "to",
        "what",
        "when",
        "why",
        "with",
    }
)

Finding = dict[str, Any]
"""``{"source", "title", "text", "score"}``: one document's passage relevant to the topic."""


def words(text: str) -> set[str]:
    """Content words of ``text``, lowercased (a trailing plural ``s`` dropped)."""
    found = {w.removesuffix("s") if len(w) > 3 else w for w in _WORD.findall(text.lower())}
    return found - _STOP


def title_of(document: str, fallback: str) -> str:
    """The document's first Markdown heading, or ``fallback``."""
    for line in document.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return fallback


def key_sentences(text: str, topic: str, count: int = SENTENCES_PER_FINDING) -> str:
    """The ``count`` sentences of ``text`` sharing most words with ``topic`` (earlier ones win
    ties), in their original order."""
    body = " ".join(line for line in text.splitlines() if not line.startswith("#"))
    sentences = [s.strip() for s in _SENTENCE.split(" ".join(body.split())) if s.strip()]
    wanted = words(topic)
    ranked = sorted(range(len(sentences)), key=lambda i: (-len(words(sentences[i]) & wanted), i))
    return " ".join(sentences[i] for i in sorted(ranked[:count]))


def findings_from_hits(topic: str, hits: Iterable[Any]) -> list[Finding]:
    """The best passage per source document, best sources first, at most
    :data:`MAX_FINDINGS`; hits are :class:`~soorma_lc.memory.semantic.Knowledge` chunks.
    A hit counts when it shares a word with the topic and scores at least :data:`MIN_SCORE`
    and :data:`RELATIVE_SCORE` of the best hit (offline embeddings give loose scores)."""
    hits = list(hits)
    top = max((hit.score or 0.0 for hit in hits), default=0.0)
    cutoff = max(MIN_SCORE, RELATIVE_SCORE * top)
    wanted = words(topic)
    best: dict[str, Any] = {}
    for hit in hits:
        if (hit.score or 0.0) < cutoff or not wanted & words(hit.content):
            continue
        source = str(hit.metadata.get("source") or hit.external_id or hit.knowledge_id)
        if source not in best or hit.score > best[source].score:
            best[source] = hit
    ranked = sorted(best.items(), key=lambda item: (-item[1].score, item[0]))[:MAX_FINDINGS]
    return [
        {
            "source": source,
            "title": str(hit.metadata.get("title") or source),
            "text": key_sentences(hit.content, topic),
            "score": round(float(hit.score), 3),
        }
        for source, hit in ranked
    ]


def compose_draft(topic: str, findings: Sequence[Mapping[str, Any]], audience: str | None) -> str:
    """A Markdown briefing built from the findings alone, each point citing its source."""
    reader = audience or "a technical reader"
    sources = ", ".join(str(f["title"]) for f in findings)
    lines = [
        f"# {topic[:1].upper()}{topic[1:]}: a briefing for {reader}",
        "",
        f"This briefing draws on {len(findings)} source"
        f"{'s' if len(findings) != 1 else ''} from the knowledge base ({sources}).",
        "",
        "## Key points",
        "",
    ]
    lines += [f"- **{f['title']}.** {f['text']} [{f['source']}]" for f in findings]
    lines += ["", "## Sources", ""]
    lines += [f"- {f['title']} ({f['source']})" for f in findings]
    return "\n".join(lines)


def review_draft(
    draft: str, topic: str | None, findings: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Check ``draft`` against the findings: it must cite every finding's source, cite no
    source the research did not find, and be about the topic. ``{"approved", "feedback"}``."""
    known = [str(f["source"]) for f in findings]
    cited = set(_CITATION.findall(draft))
    problems = []
    if not findings:
        problems.append("there are no findings to check the draft against")
    missing = [source for source in known if source not in cited]
    if missing:
        problems.append("cite the findings of " + ", ".join(missing))
    invented = sorted(cited - set(known))
    if invented:
        problems.append("remove sources the research did not find: " + ", ".join(invented))
    if topic and not words(topic) & words(draft):
        problems.append(f"the draft does not mention the topic {topic!r}")
    if problems:
        return {"approved": False, "feedback": "; ".join(problems)}
    return {
        "approved": True,
        "feedback": f"all {len(known)} findings cited with their sources; no unknown sources",
    }
