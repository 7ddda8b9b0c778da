"""Split long texts into overlapping chunks at paragraph, line, sentence or word boundaries.

Embedding models see a bounded window (and a whole-book vector means nothing): semantic
memory stores each chunk as its own vector, the overlap keeping a sentence cut at a chunk edge
findable from either side.
"""

from __future__ import annotations

from soorma_lc.errors import InvalidMemoryInputError
from soorma_lc.memory._values import require_count

DEFAULT_CHUNK_CHARS = 1000
DEFAULT_OVERLAP_CHARS = 150
_SEPARATORS = ("\n\n", "\n", ". ", " ")


def _pieces(text: str, max_chars: int, separators: tuple[str, ...]) -> list[str]:
    """Pieces of at most ``max_chars`` that concatenate back to ``text``."""
    if len(text) <= max_chars:
        return [text]
    if not separators:
        return [text[i : i + max_chars] for i in range(0, len(text), max_chars)]
    separator, rest = separators[0], separators[1:]
    parts = text.split(separator)
    pieces: list[str] = []
    for index, part in enumerate(parts):
        piece = part + separator if index < len(parts) - 1 else part
        if piece:
            pieces.extend(_pieces(piece, max_chars, rest))
    return pieces


def chunk_text(
    text: str, max_chars: int = DEFAULT_CHUNK_CHARS, overlap: int = DEFAULT_OVERLAP_CHARS
) -> list[str]:
    """``text`` as chunks of at most ``max_chars``; consecutive chunks share up to ``overlap``
    characters of whole pieces. A text that fits is returned unchanged as one chunk."""
    if not isinstance(text, str):
        raise InvalidMemoryInputError(f"chunk_text takes a string, got {type(text).__name__}")
    require_count(max_chars, "max_chars", error=InvalidMemoryInputError)
    require_count(overlap, "overlap", minimum=0, error=InvalidMemoryInputError)
    if overlap >= max_chars:
        raise InvalidMemoryInputError("need 0 <= overlap < max_chars")
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for piece in _pieces(text, max_chars, _SEPARATORS):
        if current and size + len(piece) > max_chars:
            chunks.append("".join(current))
            carried: list[str] = []
            carried_size = 0
            for previous in reversed(current):
                if carried_size + len(previous) > overlap:
                    break
                carried.insert(0, previous)
                carried_size += len(previous)
            if carried_size + len(piece) > max_chars:
                carried, carried_size = [], 0
            current, size = carried, carried_size
        current.append(piece)
        size += len(piece)
    if current:
        chunks.append("".join(current))
    return [chunk for chunk in chunks if chunk.strip()]
