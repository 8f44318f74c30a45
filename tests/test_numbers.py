import pytest
import sympy as sp

from generator.numbers import decimal, exact, significant_text, tex_number, to_json


@pytest.mark.parametrize(("value", "text"), [
    ("1/8", "0.125"), ("-3921/5000", "-0.7842"), ("1/3", "0.3333"), ("-2/3", "-0.6667"), ("7", "7"),
    ("0", "0"), ("-1/20000", "-0.00005"), ("1/1024", "0.0009765625"), ("-5/2", "-2.5"), ("-1/30000", "0.0000"),
])
def test_decimal_is_exact_when_it_terminates_and_rounded_half_up_otherwise(value, text):
    assert decimal(sp.Rational(value)) == text


@pytest.mark.parametrize(("value", "tex"), [
    (147840, r"147\,840"), (9999, "9999"), ("-3/8", "-0.375"), ("1/3", r"\frac{1}{3}"), ("-2/3", r"-\frac{2}{3}"),
])
def test_tex_number(value, tex):
    assert tex_number(exact(value)) == tex


def test_json_form_is_exact_and_refuses_floats():
    assert to_json({"a": sp.Integer(3), "b": sp.Rational(3, 8), "c": [sp.Rational(1, 2)], "d": True}) == {
        "a": 3, "b": "3/8", "c": ["1/2"], "d": True}
    with pytest.raises(TypeError):
        to_json(0.5)
    with pytest.raises(TypeError):
        exact(0.1)


def test_significant_text_keeps_trailing_zeros():
    """'to four significant digits' in a key means 1.050, not 1.05."""
    assert significant_text(sp.Rational(105, 100), 4) == "1.050"
    assert significant_text(-sp.log(sp.Rational(35, 100)), 4) == "1.050"
    assert significant_text(sp.Rational(1, 1000), 4) == "0.001000"
    assert significant_text(sp.Rational(123456), 4) == "123500"
    assert significant_text(sp.Rational(99996, 10000), 4) == "10.00"


def test_large_counts_in_words():
    from generator.numbers import in_words

    assert in_words(240_844_800) == {"value": 241, "unit": "million"}
    assert in_words(12_884_901_888) == {"value": sp.Rational(129, 10), "unit": "billion"}
    assert in_words(39_582_418_599_936) == {"value": sp.Rational(396, 10), "unit": "trillion"}
    assert in_words(150_000) == {"value": sp.Rational(15, 100), "unit": "million"}
    assert in_words(99_999) is None
