"""The Markdown that bank text is written in, with LaTeX math, read into a small tree
and written out as LaTeX (the PDFs) or HTML (the LMS exports).

The subset: paragraphs; *emphasis*, **strong**, `code`; fenced code blocks (```);
bullet (`-`, `*`, `+`) and numbered (`1.`) lists, nested by indenting; simple pipe
tables (a header row, a `|---|:---:|` row, body rows); images `![alt](path)`; math
`$...$` and `$$...$$`; a backslash before punctuation shows it (`\\*`, `\\$`).

Safe by construction: text outside math is escaped, so it prints literally whatever it
says (`\\input{...}`, `\\begin{verbatim}`, braces, `%`); math goes through the allow-list
of generator.texmath; an image path is resolved by the caller (inside the bank's folder
only) into a file name of the compile folder. Errors carry the line in the source."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from .render import escape
from .texmath import MathError, check_math

MAX_DEPTH = 3  # nested lists: LaTeX allows a few levels inside an exam question


class MarkdownError(ValueError):
    """Text that cannot be rendered; `line` counts from 1 in the source."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


# --- the tree -------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Emph:
    children: tuple
    strong: bool = False


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Math:
    tex: str
    display: bool = False


@dataclass(frozen=True)
class Image:
    name: str  # the file's name in the compile folder
    alt: str


@dataclass(frozen=True)
class Paragraph:
    children: tuple


@dataclass(frozen=True)
class Figure:
    image: Image


@dataclass(frozen=True)
class CodeBlock:
    text: str


@dataclass(frozen=True)
class ItemList:
    ordered: bool
    items: tuple  # each a tuple of blocks


@dataclass(frozen=True)
class Table:
    align: tuple[str, ...]  # l, c or r per column
    header: tuple  # cells, each a tuple of inline nodes
    rows: tuple


@dataclass(frozen=True)
class Markdown:
    source: str
    blocks: tuple

    @property
    def inline(self) -> bool:
        """One paragraph (or nothing): fits on a line, e.g. a choice option."""
        return len(self.blocks) <= 1 and all(isinstance(b, Paragraph) for b in self.blocks)


ImageResolver = Callable[[str], str]  # path as written -> compile-folder file name; ValueError if refused


def parse(source: str, resolve_image: ImageResolver) -> Markdown:
    lines = source.expandtabs(4).split("\n")
    return Markdown(source, tuple(_Blocks(resolve_image, 0).parse(list(enumerate(lines, 1)))))


# --- blocks ---------------------------------------------------------------------

_FENCE = re.compile(r"\s*(```+|~~~+)")
_ITEM = re.compile(r"( {0,3})([-*+]|\d{1,9}[.)])( +|$)(.*)")
_TABLE_RULE = re.compile(r"\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*")

Lines = list[tuple[int, str]]


class _Blocks:
    def __init__(self, resolve_image: ImageResolver, depth: int):
        self.resolve_image = resolve_image
        self.depth = depth

    def parse(self, lines: Lines) -> list:
        blocks, i = [], 0
        while i < len(lines):
            text = lines[i][1]
            if not text.strip():
                i += 1
            elif _FENCE.match(text):
                i = self._code(lines, i, blocks)
            elif _ITEM.match(text):
                i = self._list(lines, i, blocks)
            elif text.strip().startswith("|") and i + 1 < len(lines) and _TABLE_RULE.fullmatch(lines[i + 1][1]):
                i = self._table(lines, i, blocks)
            else:
                i = self._paragraph(lines, i, blocks)
        return blocks

    def _code(self, lines: Lines, i: int, blocks: list) -> int:
        fence = _FENCE.match(lines[i][1]).group(1)
        for j in range(i + 1, len(lines)):
            if lines[j][1].strip().startswith(fence):
                blocks.append(CodeBlock("\n".join(text for _, text in lines[i + 1 : j])))
                return j + 1
        raise MarkdownError(f"a code block opened with {fence} is never closed", lines[i][0])

    def _paragraph(self, lines: Lines, i: int, blocks: list) -> int:
        start = i
        while i < len(lines) and lines[i][1].strip() and (i == start or not _starts_block(lines, i)):
            i += 1
        text = "\n".join(t for _, t in lines[start:i]).strip()
        nodes = _Inline(text, lines[start][0], self.resolve_image).parse()
        if len(nodes) == 1 and isinstance(nodes[0], Image):
            blocks.append(Figure(nodes[0]))
        else:
            blocks.append(Paragraph(tuple(nodes)))
        return i

    def _list(self, lines: Lines, i: int, blocks: list) -> int:
        if self.depth >= MAX_DEPTH:
            raise MarkdownError(f"lists nest at most {MAX_DEPTH} levels deep", lines[i][0])
        ordered = _ITEM.match(lines[i][1]).group(2)[0].isdigit()
        items: list[Lines] = []
        while i < len(lines):
            number, text = lines[i]
            found = _ITEM.match(text)
            if found and found.group(2)[0].isdigit() == ordered:
                indent = len(found.group(1)) + len(found.group(2)) + max(1, len(found.group(3)))
                items.append([(number, found.group(4))])
                i += 1
                continue
            if not text.strip():  # a blank line: the list goes on if an indented line follows
                following = next((t for _, t in lines[i + 1 :] if t.strip()), "")
                if _indent(following) >= 2:
                    items[-1].append((number, ""))
                    i += 1
                    continue
                break
            if _indent(text) >= 2:
                items[-1].append((number, text[min(indent, _indent(text)) :]))
            elif items[-1][-1][1].strip() and not _starts_block(lines, i):
                items[-1].append((number, text))  # a lazy continuation of the item's text
            else:
                break
            i += 1
        inner = _Blocks(self.resolve_image, self.depth + 1)
        blocks.append(ItemList(ordered, tuple(tuple(inner.parse(item)) for item in items)))
        return i

    def _table(self, lines: Lines, i: int, blocks: list) -> int:
        header = _cells(lines[i][1])
        align = tuple(_alignment(cell) for cell in _cells(lines[i + 1][1]))
        if len(align) != len(header):
            raise MarkdownError(f"the table's header has {len(header)} cells and its rule {len(align)}", lines[i][0])
        rows, j = [], i + 2
        while j < len(lines) and lines[j][1].strip().startswith("|"):
            cells = _cells(lines[j][1])
            if len(cells) > len(header):
                raise MarkdownError(f"a table row has {len(cells)} cells, the header {len(header)}", lines[j][0])
            rows.append(cells + [""] * (len(header) - len(cells)))
            j += 1

        def inline(cells: list[str], number: int) -> tuple:
            return tuple(tuple(_Inline(c, number, self.resolve_image).parse()) for c in cells)

        blocks.append(Table(align, inline(header, lines[i][0]),
                            tuple(inline(row, lines[i + 2 + k][0]) for k, row in enumerate(rows))))
        return j


def _starts_block(lines: Lines, i: int) -> bool:
    text = lines[i][1]
    return bool(_FENCE.match(text) or _ITEM.match(text))


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _cells(row: str) -> list[str]:
    row = row.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", row)]


def _alignment(rule: str) -> str:
    rule = rule.strip()
    if rule.startswith(":") and rule.endswith(":"):
        return "c"
    return "r" if rule.endswith(":") else "l"


# --- inline text ----------------------------------------------------------------

_IMAGE = re.compile(r"!\[([^\]\n]*)\]\(\s*([^)\s]+)\s*\)")
_PUNCTUATION = set("\\`*_{}[]()#+-.!$|<>~^%&'\"")


class _Inline:
    def __init__(self, text: str, first_line: int, resolve_image: ImageResolver):
        self.s = text
        self.first_line = first_line
        self.resolve_image = resolve_image

    def line(self, offset: int) -> int:
        return self.first_line + self.s.count("\n", 0, offset)

    def parse(self) -> list:
        nodes, end, _ = self._run(0, None)
        if end != len(self.s):  # cannot happen: a run without a closer reads to the end
            raise MarkdownError("unexpected text", self.line(end))
        return nodes

    def _run(self, i: int, closer: str | None) -> tuple[list, int, bool]:
        """Nodes from i up to the closing delimiter (when given and found)."""
        nodes: list = []
        buffer: list[str] = []

        def flush() -> None:
            if buffer:
                nodes.append(Text("".join(buffer)))
                buffer.clear()

        s = self.s
        while i < len(s):
            c = s[i]
            if closer and s.startswith(closer, i) and self._can_close(i, closer):
                flush()
                return nodes, i + len(closer), True
            if c == "\\" and i + 1 < len(s) and s[i + 1] in _PUNCTUATION:
                buffer.append(s[i + 1])
                i += 2
                continue
            found = self._special(i)
            if found is None:
                buffer.append(c)
                i += 1
                continue
            node, i = found
            flush()
            nodes.append(node)
        flush()
        return nodes, i, False

    def _special(self, i: int) -> tuple[object, int] | None:
        s, c = self.s, self.s[i]
        if c == "`":
            return self._code(i)
        if c == "$":
            return self._math(i)
        if c == "!" and s.startswith("![", i):
            return self._image(i)
        for mark in ("**", "__", "*", "_"):
            if s.startswith(mark, i) and self._can_open(i, mark):
                children, end, closed = self._run(i + len(mark), mark)
                if closed and children:
                    return Emph(tuple(children), strong=len(mark) == 2), end
                return Text(mark), i + len(mark)
        return None

    def _can_open(self, i: int, mark: str) -> bool:
        after = self.s[i + len(mark) : i + len(mark) + 1]
        if not after or after.isspace():
            return False
        return not (mark[0] == "_" and i > 0 and self.s[i - 1].isalnum())  # snake_case stays text

    def _can_close(self, i: int, mark: str) -> bool:
        if mark not in ("**", "__", "*", "_"):
            return True
        if i == 0 or self.s[i - 1].isspace():
            return False
        if len(mark) == 1 and self.s.startswith(mark * 2, i):
            return False  # `**` inside `*...*` opens strong text
        after = self.s[i + len(mark) : i + len(mark) + 1]
        return not (mark[0] == "_" and after.isalnum())

    def _code(self, i: int) -> tuple[object, int]:
        run = re.match(r"`+", self.s[i:]).group(0)
        closing = re.compile(rf"(?<!`){run}(?!`)")
        found = closing.search(self.s, i + len(run))
        if not found:
            return Text(run), i + len(run)
        text = self.s[i + len(run) : found.start()].replace("\n", " ")
        if text.startswith(" ") and text.endswith(" ") and text.strip():
            text = text[1:-1]
        return Code(text), found.end()

    def _math(self, i: int) -> tuple[object, int]:
        s = self.s
        if s.startswith("$$", i):
            end = _closing_dollars(s, i + 2)
            if end < 0:
                raise MarkdownError("`$$` opens display math that is never closed by `$$`", self.line(i))
            return self._checked(s[i + 2 : end], i + 2, display=True), end + 2
        if i + 1 < len(s) and not s[i + 1].isspace():
            end = _closing_dollar(s, i + 1)
            if end >= 0:
                return self._checked(s[i + 1 : end], i + 1, display=False), end + 1
        return Text("$"), i + 1  # a lone dollar sign is a dollar sign

    def _checked(self, tex: str, offset: int, *, display: bool) -> Math:
        try:
            check_math(tex)
        except MathError as exc:
            raise MarkdownError(str(exc), self.line(offset + exc.offset)) from None
        return Math(tex.strip() if display else tex, display)

    def _image(self, i: int) -> tuple[object, int]:
        found = _IMAGE.match(self.s, i)
        if not found:
            return Text("!"), i + 1
        try:
            name = self.resolve_image(found.group(2))
        except ValueError as exc:
            raise MarkdownError(str(exc), self.line(i)) from None
        return Image(name, found.group(1)), found.end()


def _closing_dollar(s: str, start: int) -> int:
    """The `$` that closes inline math opened before `start`: preceded by a non-space,
    not escaped, not followed by a digit (so `$5 and $10` stays text); -1 if none."""
    i = start
    while True:
        i = s.find("$", i)
        if i < 0 or s.startswith("$$", i):
            return -1
        if not s[i - 1].isspace() and s[i - 1] != "\\" and not s[i + 1 : i + 2].isdigit():
            return i
        i += 1


def _closing_dollars(s: str, start: int) -> int:
    i = start
    while True:
        i = s.find("$$", i)
        if i < 0 or s[i - 1] != "\\":
            return i
        i += 2


def texts(doc: Markdown) -> list[str]:
    """The literal texts of a document, as the LaTeX output escapes them one by one
    (text, code, code blocks' lines), in order; not maths nor images."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, Text | Code):
            found.append(node.text)
        elif isinstance(node, CodeBlock):
            found.extend(node.text.split("\n"))
        elif isinstance(node, tuple):
            for child in node:
                walk(child)
        elif isinstance(node, Emph | Paragraph):
            walk(node.children)
        elif isinstance(node, ItemList):
            walk(node.items)
        elif isinstance(node, Table):
            walk((node.header, node.rows))

    walk(doc.blocks)
    return found


# --- LaTeX ----------------------------------------------------------------------


def to_latex(doc: Markdown) -> str:
    return _blocks_latex(doc.blocks)


def inline_latex(doc: Markdown) -> str:
    """A one-paragraph text (an option, a criterion) without paragraph breaks."""
    return "".join(_inline_latex(b.children) for b in doc.blocks if isinstance(b, Paragraph))


def _blocks_latex(blocks: tuple) -> str:
    return "\n\n".join(_block_latex(block) for block in blocks)


def _block_latex(block: object) -> str:
    if isinstance(block, Paragraph):
        return _inline_latex(block.children)
    if isinstance(block, Figure):
        return f"\\begin{{center}}\n\\genimage{{{block.image.name}}}\n\\end{{center}}"
    if isinstance(block, CodeBlock):
        lines = [_text_latex(line).replace(" ", "~") or "\\mbox{}" for line in block.text.split("\n")]
        body = "\n".join(f"{line}\\par" for line in lines)
        return f"\\begin{{flushleft}}\\ttfamily\\small\\parskip=0pt\n{body}\n\\end{{flushleft}}"
    if isinstance(block, ItemList):
        env = "enumerate" if block.ordered else "itemize"
        items = "\n".join(f"\\item{{}} {_blocks_latex(item)}" for item in block.items)
        return f"\\begin{{{env}}}\n{items}\n\\end{{{env}}}"
    if isinstance(block, Table):
        def row(cells: tuple, bold: bool = False) -> str:
            texts = [_inline_latex(c) for c in cells]
            return " & ".join(f"\\textbf{{{t}}}" if bold and t else t for t in texts) + " \\\\ \\hline"

        spec = "|" + "|".join(block.align) + "|"
        body = "\n".join([row(block.header, bold=True), *(row(r) for r in block.rows)])
        return f"\\begin{{center}}\n\\begin{{tabular}}{{{spec}}}\n\\hline\n{body}\n\\end{{tabular}}\n\\end{{center}}"
    raise TypeError(f"unknown block {block!r}")


def _inline_latex(nodes: tuple) -> str:
    parts = []
    for node in nodes:
        if isinstance(node, Text):
            parts.append(_text_latex(node.text))
        elif isinstance(node, Emph):
            command = "textbf" if node.strong else "emph"
            parts.append(f"\\{command}{{{_inline_latex(node.children)}}}")
        elif isinstance(node, Code):
            parts.append(f"\\texttt{{{_text_latex(node.text)}}}")
        elif isinstance(node, Math):
            parts.append(f"\\[ {node.tex} \\]" if node.display else f"${node.tex}$")
        elif isinstance(node, Image):
            parts.append(f"\\genimage{{{node.name}}}")
    return "".join(parts)


def _text_latex(text: str) -> str:
    """Literal text; `[` braced so that it never reads as an optional argument
    (after `\\item` or a line break)."""
    return escape(text).replace("[", "{[}")


# --- HTML -----------------------------------------------------------------------


def to_html(doc: Markdown, image_src: Callable[[str], str]) -> ET.Element:
    """The text as a <div>, for an LMS question or feedback; math as \\( \\) and \\[ \\]
    for MathJax, images at image_src(file name). A one-paragraph text (an option) is a
    <span> without the paragraph."""
    if doc.inline:
        root = ET.Element("span")
        _inline_html(root, doc.blocks[0].children if doc.blocks else (), image_src)
        return root
    root = ET.Element("div")
    _blocks_html(root, doc.blocks, image_src)
    return root


def _blocks_html(parent: ET.Element, blocks: tuple, image_src: Callable[[str], str]) -> None:
    for block in blocks:
        if isinstance(block, Paragraph):
            _inline_html(ET.SubElement(parent, "p"), block.children, image_src)
        elif isinstance(block, Figure):
            _image_html(ET.SubElement(parent, "p"), block.image, image_src)
        elif isinstance(block, CodeBlock):
            ET.SubElement(ET.SubElement(parent, "pre"), "code").text = block.text
        elif isinstance(block, ItemList):
            items = ET.SubElement(parent, "ol" if block.ordered else "ul")
            for item in block.items:
                _blocks_html(ET.SubElement(items, "li"), item, image_src)
        elif isinstance(block, Table):
            table = ET.SubElement(parent, "table", border="1")
            for cells, tag in [(block.header, "th"), *((row, "td") for row in block.rows)]:
                tr = ET.SubElement(table, "tr")
                for cell, align in zip(cells, block.align, strict=True):
                    style = {"l": "left", "c": "center", "r": "right"}[align]
                    _inline_html(ET.SubElement(tr, tag, style=f"text-align: {style}"), cell, image_src)


def _inline_html(parent: ET.Element, nodes: tuple, image_src: Callable[[str], str]) -> None:
    def put(text: str) -> None:
        children = list(parent)
        if children:
            children[-1].tail = (children[-1].tail or "") + text
        else:
            parent.text = (parent.text or "") + text

    for node in nodes:
        if isinstance(node, Text):
            put(node.text)
        elif isinstance(node, Math):
            put(f"\\[{node.tex}\\]" if node.display else f"\\({node.tex}\\)")
        elif isinstance(node, Emph):
            _inline_html(ET.SubElement(parent, "strong" if node.strong else "em"), node.children, image_src)
        elif isinstance(node, Code):
            ET.SubElement(parent, "code").text = node.text
        elif isinstance(node, Image):
            _image_html(parent, node, image_src)


def _image_html(parent: ET.Element, image: Image, image_src: Callable[[str], str]) -> None:
    ET.SubElement(parent, "img", src=image_src(image.name), alt=image.alt)
