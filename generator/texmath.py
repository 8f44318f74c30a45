"""Math in bank text is math, not a way to run LaTeX.

The LaTeX between `$...$` or `$$...$$` is passed to pdflatex as written only after
this check: every command must be on an allow-list of maths commands, every
environment on an allow-list of maths environments, braces, `\\left`/`\\right` and
`\\begin`/`\\end` must pair up, and `^^` escapes, `%`, `#`, stray `&` and characters
outside ASCII (except inside `\\text{...}`) are refused. Anything else (`\\input`,
`\\write18`, `\\catcode`, `\\def`, `\\csname`, `\\openin`, `\\begin{verbatim}`, ...) raises
MathError naming it; nothing in math can read a file, define a macro or change how TeX
reads its input."""

from __future__ import annotations

import re

GREEK = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi varpi "
    "rho varrho sigma varsigma tau upsilon phi varphi chi psi omega "
    "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega"
)
OPERATORS = (
    "frac dfrac tfrac binom sqrt sum prod coprod int iint oint lim limsup liminf sup inf max min arg det dim "
    "exp log ln lg sin cos tan sec csc cot arcsin arccos arctan sinh cosh tanh ker deg gcd Pr operatorname "
    "cdot cdots ldots dots vdots ddots times div pm mp ast star circ bullet odot oplus otimes ominus "
    "le leq ge geq ll gg neq ne approx sim simeq cong equiv propto doteq prec succ preceq succeq "
    "in notin ni subset subseteq supset supseteq cup cap bigcup bigcap setminus emptyset varnothing "
    "forall exists nexists neg lnot land lor wedge vee top bot perp intercal mid nmid parallel "
    "infty partial nabla ell hbar Re Im aleph prime backslash "
    "to gets rightarrow leftarrow Rightarrow Leftarrow leftrightarrow Leftrightarrow longrightarrow "
    "longleftarrow Longrightarrow mapsto implies iff uparrow downarrow "
    "langle rangle lfloor rfloor lceil rceil lvert rvert lVert rVert vert Vert "
    "left right middle big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr "
    "hat bar tilde vec dot ddot check breve acute grave widehat widetilde overline underline "
    "overbrace underbrace overrightarrow overleftarrow "
    "mathcal mathbf mathrm mathit mathbb mathsf mathtt mathfrak boldsymbol displaystyle textstyle "
    "scriptstyle text textbf textit textrm texttt mbox "
    "quad qquad enspace "
    "begin end"
)
ALLOWED_COMMANDS = frozenset((GREEK + " " + OPERATORS).split())
# \, \; \: \! \  (spaces, also before a line break or tab), escaped braces and specials, \| and the
# row break \\.
ALLOWED_SYMBOLS = frozenset(",;:! {}|\\%#&_$\n\t")
ENVIRONMENTS = frozenset(["matrix", "pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix", "smallmatrix", "cases",
                          "aligned", "gathered", "array"])
TEXT_COMMANDS = frozenset(["text", "textbf", "textit", "textrm", "texttt", "mbox", "operatorname"])

_TOKEN = re.compile(r"\\([A-Za-z]+|.)?|\^\^|[{}%#&^_]|[^\x00-\x7f]", re.S)


class MathError(ValueError):
    """Math that is refused: `offset` is where in the math text it was found."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


def check_math(math: str) -> None:
    """Raise MathError unless `math` uses only allowed commands and environments,
    with balanced groups."""
    braces: list[bool] = []  # per open brace: is it a text group?
    environments: list[str] = []
    lefts = 0
    text_next = False  # the next brace opens a text group (\text{...})
    for match in _TOKEN.finditer(math):
        token, start = match.group(0), match.start()
        in_text = any(braces)
        if token == "^^":
            raise MathError("`^^` (TeX's character-code escape) is not allowed in math", start)
        if token.startswith("\\"):
            name = match.group(1)
            if name is None:
                raise MathError("a backslash at the end of the math", start)
            if len(name) == 1 and not name.isalpha():
                if name not in ALLOWED_SYMBOLS:
                    raise MathError(f"the command `\\{name}` is not allowed in math", start)
                continue
            if name not in ALLOWED_COMMANDS:
                raise MathError(f"the command `\\{name}` is not allowed in math "
                                "(only maths commands such as \\frac, \\sqrt, \\sum, \\mathbf are)", start)
            if name in ("begin", "end"):
                env = _environment(math, match.end(), start)
                if name == "begin":
                    environments.append(env)
                elif not environments or environments.pop() != env:
                    raise MathError(f"`\\end{{{env}}}` without its `\\begin{{{env}}}`", start)
            elif name == "left":
                lefts += 1
            elif name == "right":
                lefts -= 1
                if lefts < 0:
                    raise MathError("`\\right` without its `\\left`", start)
            text_next = name in TEXT_COMMANDS
            continue
        if token == "{":
            braces.append(text_next or in_text)
        elif token == "}":
            if not braces:
                raise MathError("a `}` that closes no `{`", start)
            braces.pop()
        elif token in ("%", "#"):
            raise MathError(f"`{token}` is not allowed in math (write `\\{token}` to show it)", start)
        elif token == "&" and not environments:
            raise MathError("`&` outside a matrix, cases or aligned environment (write `\\&` to show it)", start)
        elif token in ("^", "_") and in_text:
            raise MathError(f"`{token}` inside \\text{{...}} (close the text first)", start)
        elif ord(token[0]) > 0x7F and not in_text:
            raise MathError(f"the character {token!r} in math: write it as a command (e.g. \\times for ×) "
                            "or inside \\text{...}", start)
        text_next = False
    if braces:
        raise MathError("a `{` that is never closed", len(math))
    if environments:
        raise MathError(f"`\\begin{{{environments[-1]}}}` that is never ended", len(math))
    if lefts:
        raise MathError("`\\left` without its `\\right`", len(math))


_ENV_NAME = re.compile(r"\s*\{([A-Za-z*]*)\}")


def _environment(math: str, end: int, start: int) -> str:
    found = _ENV_NAME.match(math, end)
    if not found:
        raise MathError("`\\begin`/`\\end` without an environment name in braces", start)
    if found.group(1) not in ENVIRONMENTS:
        raise MathError(f"the environment `{found.group(1)}` is not allowed in math "
                        f"(allowed: {', '.join(sorted(ENVIRONMENTS))})", start)
    return found.group(1)
