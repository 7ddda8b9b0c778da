"""The name and label rules of soorma_lc.checks, which every layer applies to ids."""

from __future__ import annotations

import unicodedata

import pytest

from soorma_lc.checks import label_problem, name_problem

INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"}


@pytest.mark.parametrize("code", range(0x80))
def test_every_ascii_character_follows_the_visible_text_rule(code: int) -> None:
    """Visible ASCII text skips the per-character lookup; the verdict must not change."""
    char = chr(code)
    visible = unicodedata.category(char) not in INVISIBLE
    assert (name_problem(f"a{char}b") is None) is visible
    assert (name_problem(char * 3) is None) is visible
    assert (label_problem(f"a{char}b") is None) is (visible or char == " ")


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("plan-7:step.2", True),
        ("café", True),
        ("a\u200bb", False),  # zero-width space
        ("a\u00a0b", False),  # no-break space
        ("a\u2028b", False),  # line separator
        ("\ud800", False),  # lone surrogate
        ("", False),
        ("x" * 257, False),
    ],
)
def test_names_beyond_ascii_are_checked_character_by_character(value: str, valid: bool) -> None:
    assert (name_problem(value, max_length=256) is None) is valid
