"""The Markdown of bank text: every construct of the subset to LaTeX and HTML, text
always literal, math only through the allow-list, errors with their line."""

import xml.etree.ElementTree as ET

import pytest

from generator.markdown import MarkdownError, inline_latex, parse, to_html, to_latex
from generator.texmath import MathError, check_math


def _no_images(path: str) -> str:
    raise ValueError(f"no image {path!r} here")


def latex(source: str) -> str:
    return to_latex(parse(source, lambda path: "img-0123456789abcdef.png"))


def html(source: str) -> str:
    doc = parse(source, lambda path: "img-0123456789abcdef.png")
    return ET.tostring(to_html(doc, lambda name: f"@@PLUGINFILE@@/{name}"), encoding="unicode")


def test_emphasis_strong_code_and_math():
    assert latex(r"An *easy* and **bold** `x_1 % y` with $\frac{a}{b}$.") == (
        r"An \emph{easy} and \textbf{bold} \texttt{x\_1 \% y} with $\frac{a}{b}$.")
    assert html(r"An *easy* and **bold** `x<1` with $\frac{a}{b}$.") == (
        r"<span>An <em>easy</em> and <strong>bold</strong> <code>x&lt;1</code> with \(\frac{a}{b}\).</span>")


def test_snake_case_dollars_and_escapes_stay_text():
    assert latex("snake_case_name costs $5 and $10") == r"snake\_case\_name costs \$5 and \$10"
    assert latex(r"\*not emphasis\* and \$ sign") == r"*not emphasis* and \$ sign"
    assert latex("2 * 3 * 4") == "2 * 3 * 4"


def test_display_math_lists_code_and_tables():
    source = """Intro.

$$
\\frac{\\partial y}{\\partial x} = I
$$

- one [a]
- two
  1. inner
  2. inner too

```
for x in [1, 2]:
    y = x ** 2  # 50% {sure}
```

| layer | params |
|:---|---:|
| conv | 1,728 |
"""
    tex = latex(source)
    assert "\\[ \\frac{\\partial y}{\\partial x} = I \\]" in tex
    assert "\\begin{itemize}\n\\item{} one {[}a]" in tex
    assert "\\begin{enumerate}\n\\item{} inner" in tex
    assert "for~x~in~{[}1,~2]:\\par\n~~~~y~=~x~**~2~~\\#~50\\%~\\{sure\\}\\par" in tex
    assert "\\begin{tabular}{|l|r|}" in tex and "conv & 1,728 \\\\ \\hline" in tex
    page = html(source)
    assert "<ul><li><p>one [a]</p></li>" in page and "<ol><li><p>inner</p></li>" in page
    assert "<pre><code>for x in [1, 2]:\n    y = x ** 2  # 50% {sure}</code></pre>" in page
    assert '<td style="text-align: right">1,728</td>' in page


def test_images_are_resolved_by_the_caller():
    tex = latex("![a block](figures/r.png)")
    assert tex == "\\begin{center}\n\\genimage{img-0123456789abcdef.png}\n\\end{center}"
    assert 'src="@@PLUGINFILE@@/img-0123456789abcdef.png"' in html("See ![a block](figures/r.png) here.")
    with pytest.raises(MarkdownError, match="no image") as caught:
        parse("text\n\n![x](../../etc/passwd.png)", _no_images)
    assert caught.value.line == 3


@pytest.mark.parametrize("source", [
    r"\input{/etc/passwd}", r"\write18{rm -rf /}", r"\catcode`\^=7", r"\def\x{1}", r"\begin{verbatim}",
    r"\csname foo\endcsname", r"\immediate\openin1=x", "^^5cinput", r"\end{document}", "100% sure",
])
def test_hostile_text_outside_math_is_printed_literally(source):
    tex = latex(source)
    assert "\\input{" not in tex and "\\write18" not in tex and "\\begin{verbatim}" not in tex
    assert "\\def\\" not in tex and "\\csname" not in tex and "\\catcode" not in tex and "^^" not in tex
    assert all(part in ("", "{}") or part.startswith(("textbackslash", "{", "}", "$", "%", "_", "#", "&", "^",
                                                      "textasciicircum", "textasciitilde", "textquotesingle",
                                                      "textasciigrave"))
               for part in tex.split("\\")[1:]), tex


@pytest.mark.parametrize(("math", "named"), [
    (r"\input{/etc/passwd}", r"\input"),
    (r"x \write18{touch pwned}", r"\write"),
    (r"\catcode`\^=7", r"\catcode"),
    (r"\def\x{1}", r"\def"),
    (r"\begin{verbatim}", "verbatim"),
    (r"\csname relax\endcsname", r"\csname"),
    (r"\openin1=/etc/passwd", r"\openin"),
    (r"x^^5cinput", "^^"),
    (r"\expandafter\x", r"\expandafter"),
    (r"\newcommand{\x}{1}", r"\newcommand"),
    (r"\left( x", r"\left"),
    (r"a & b", "&"),
    (r"50 % x", "%"),
    ("x \u00d7 y", "×"),
    (r"\text{a_b}", "_"),
    (r"{x", "{"),
])
def test_math_outside_the_allow_list_is_refused_by_name(math, named):
    with pytest.raises(MathError) as caught:
        check_math(math)
    assert named in str(caught.value)


def test_maths_commands_pass():
    for math in [r"\frac{1}{2}\sqrt{x}\sum_{i=1}^n \alpha_i", r"\mathcal{F}(x) + x", r"\nabla_w L \le \epsilon",
                 r"\left(\frac{\partial y}{\partial x}\right)", r"\mathbf{W}^\top \cdot \mathrm{ReLU}(x)",
                 r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}", r"\text{für alle } x", r"C_{\text{in}} \times k^2"]:
        check_math(math)


def test_refused_math_names_its_line():
    with pytest.raises(MarkdownError, match=r"`\\input`") as caught:
        parse("first line\nsecond $x$\n\nfourth $\\input{x}$", _no_images)
    assert caught.value.line == 4
    with pytest.raises(MarkdownError, match=r"`\\write`") as caught:
        parse("a\n$$\nx = 1\n\\write18{y}\n$$", _no_images)
    assert caught.value.line == 4


def test_unclosed_constructs():
    with pytest.raises(MarkdownError, match="never closed") as caught:
        parse("text\n```\ncode", _no_images)
    assert caught.value.line == 2
    with pytest.raises(MarkdownError, match=r"\$\$"):
        parse("costs $$ a lot", _no_images)
    assert latex("a lone $ sign") == r"a lone \$ sign"
    assert latex("an *unclosed star") == "an *unclosed star"


def test_inline_options():
    option = parse(r"$\ell_2$ weight *decay*", _no_images)
    assert option.inline and inline_latex(option) == r"$\ell_2$ weight \emph{decay}"
    assert not parse("- a\n- b", _no_images).inline
