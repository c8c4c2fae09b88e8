"""The final checks on a composed text (README "Generation": length, whole sentences, no
personal data, every model sentence verified): each passes what it should and blocks what
it should, with a detail that says why."""

from __future__ import annotations

import pytest

from worker.generation.checks import (
    check_complete,
    check_length,
    check_no_pii,
    check_provenance,
    final_checks,
)
from worker.generation.compose import Piece


def _pieces(*texts: str, source: str = "model") -> list[Piece]:
    return [Piece(text, source, "sentence") for text in texts]


@pytest.mark.parametrize(("count", "passed"), [(9, False), (10, True), (25, True), (40, True),
                                               (41, False)])
def test_length_holds_both_bounds(count, passed):
    result = check_length(count, 10, 40)
    assert (result.name, result.passed, result.blocking) == ("length", passed, True)
    assert result.detail == f"{count} words, asked 10-40"


def test_a_sentence_cut_mid_way_is_named():
    whole = check_complete(_pieces("A sturdy stapler.", "It holds 20 sheets!"))
    assert whole.passed and whole.detail == "every sentence ends" and whole.blocking
    cut = check_complete(_pieces("A sturdy stapler.", "It holds twenty sheets and"))
    assert not cut.passed and cut.detail == "ends mid-sentence: 'It holds twenty sheets and'"


def test_personal_data_blocks_and_is_counted():
    clean = check_no_pii("A sturdy stapler for the office.")
    assert clean.passed and clean.detail == "none found" and clean.blocking
    found = check_no_pii("Write to jane.doe@example.com or jane@example.org.")
    assert not found.passed and found.blocking
    assert found.detail == "email x2"


def test_provenance_says_how_many_sentences_came_from_the_model():
    pieces = _pieces("One.", "Two.") + _pieces("Three.", source="template")
    result = check_provenance(pieces)
    assert result.passed and result.detail.startswith("2 of 3 sentences from the model")


def test_final_checks_run_every_check_on_the_whole_text():
    pieces = _pieces("A sturdy stapler.", "Call 555-123-4567 today.")
    results = {r.name: r for r in final_checks(pieces, min_words=1, max_words=40)}
    assert list(results) == ["not_empty", "length", "complete_sentences", "no_personal_data",
                             "verified_sentences"]
    assert results["not_empty"].passed and results["not_empty"].detail == "2 sentences"
    assert results["length"].detail == "6 words, asked 1-40"
    assert not results["no_personal_data"].passed
    assert all(r.blocking for r in results.values())
    empty = {r.name: r for r in final_checks([], min_words=0, max_words=40)}
    assert not empty["not_empty"].passed and empty["length"].passed
    assert results["length"].as_dict() == {"passed": True, "detail": "6 words, asked 1-40",
                                           "blocking": True}
