"""Hypothesis text for the plan-reading properties: random text, and plan-like text made of
fragments real plans hold (dates, month and week words, people references, odd spaces)."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st


def plan_texts(fragments: Sequence[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=40),
        st.lists(
            st.one_of(st.sampled_from(fragments), st.integers(0, 60).map(str), st.text(max_size=3)),
            max_size=12,
        ).map(" ".join),
        st.lists(st.sampled_from(fragments), max_size=12).map("".join),
    )
