"""USCC check characters, against python-stdnum as an independent oracle."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from dues import uscc

# Published codes (company registers) with valid check characters.
KNOWN_VALID = ["91110000600037341L", "91350100M000100Y43", "911100007109310534"]


def valid_vec(codes: list[str]) -> list[bool]:
    frame = pl.DataFrame({"c": codes})
    return frame.select(uscc.valid(uscc.normalized(pl.col("c"))))["c"].to_list()


def test_published_codes_are_valid() -> None:
    assert valid_vec(KNOWN_VALID) == [True] * len(KNOWN_VALID)


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("91110000600037341M", "wrong check character"),
        ("9111000060003734", "too short"),
        ("91110000600037341LX", "too long"),
        ("91110000600O37341L", "letter O is not in the alphabet"),
        ("", "empty"),
    ],
)
def test_bad_codes_are_rejected(code: str, why: str) -> None:
    assert valid_vec([code]) == [False], why


def test_full_width_and_lower_case_are_folded() -> None:
    assert valid_vec(["９１１１００００６０００３７３４１ｌ"]) == [True]


def test_letter_initial_codes_are_valid_when_the_check_holds() -> None:
    # Codes registered by other authorities start with a letter (A, N, Y ...).
    body = "N2110000MJ0000001"
    code = body + uscc.check_character(body)
    assert uscc.is_valid(code)
    assert valid_vec([code]) == [True]


alphabet = st.sampled_from(uscc.ALPHABET)


@settings(max_examples=300)
@given(
    st.text(alphabet=st.sampled_from("0123456789"), min_size=8, max_size=8),
    st.text(alphabet=alphabet, min_size=9, max_size=9),
    alphabet,
)
def test_vectorized_check_agrees_with_stdnum(head: str, body: str, last: str) -> None:
    # stdnum knows only codes whose first eight characters are digits.
    code = head + body + last
    assert valid_vec([code]) == [stdnum_uscc.is_valid(code)]
    assert uscc.is_valid(code) == stdnum_uscc.is_valid(code)


@settings(max_examples=200)
@given(
    st.text(alphabet=st.sampled_from("0123456789"), min_size=8, max_size=8),
    st.text(alphabet=alphabet, min_size=9, max_size=9),
)
def test_codes_completed_by_stdnum_are_valid(head: str, body: str) -> None:
    code = head + body + stdnum_uscc.calc_check_digit(head + body)
    assert valid_vec([code]) == [True]
