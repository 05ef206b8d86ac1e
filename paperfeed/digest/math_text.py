"""LaTeX in paper titles and abstracts as readable Unicode text, for mail (no KaTeX there).

`latex_to_text("From $O(mn)$ to $O(r^2)$")` gives "From O(mn) to O(r²)". The digest renderer
calls it on every title and abstract; its output is plain text, still to be escaped for HTML.

Paper text is hostile and only half LaTeX, so this is a small converter of our own rather than
pylatexenc's LatexNodes2Text, which reads an abstract's "3.2% of" as a comment (dropping the
rest of the line), "$10 and $20" as math, drops unknown macros such as \\ourmethod without a
trace, and raises RecursionError on deep nesting. We borrow only its table of symbol names.
Rules here:
- Math is `$…$`, `$$…$$`, `\\(…\\)` or `\\[…\\]`; a `$` opens math only when a non-space follows
  it and a closing `$` comes after a non-space and before no digit (pandoc's rule).
- Known symbols become Unicode (α, ≤, ℒ, ℝ, x², xᵢ, √n, 1/2); an unknown macro stays as its
  source text; nothing is ever expanded, so \\def and \\newcommand bombs are inert.
- It never raises: on any surprise, and for text over MAX_CHARS, the input comes back as it was
  (with whitespace collapsed).
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata

log = logging.getLogger(__name__)

# An arXiv abstract is at most 1,920 characters; far longer text is left as it is, bounding the
# work one hostile paper can ask for.
MAX_CHARS = 5000
# Real formulas nest a handful of braces deep; deeper input is treated as hostile.
MAX_DEPTH = 40

_SUPERSCRIPTS = dict(
    zip(
        "0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWαβγδεθφχ",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵅᵝᵞᵟᵋᶿᵠᵡ",
        strict=True,
    )
)
_SUBSCRIPTS = dict(
    zip(
        "0123456789+-=()aehijklmnoprstuvxβγρφχ",
        "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ",
        strict=True,
    )
)
# What a superscript symbol reads as when it has no superscript form: Q^\star → Q*.
_SUPERSCRIPT_SYMBOLS = {"*": "*", "⋆": "*", "∗": "*", "′": "′", "'": "′", "⊤": "ᵀ", "†": "†"}

_FONTS = {
    "mathcal": "SCRIPT",
    "mathscr": "SCRIPT",
    "mathbb": "DOUBLE-STRUCK",
    "mathfrak": "FRAKTUR",
}
# Wrappers whose argument is kept as it is: fonts and text boxes that plain text cannot show.
_PLAIN_WRAPPERS = {
    "text", "textrm", "textnormal", "textbf", "textit", "textsl", "textsf", "texttt", "emph",
    "mathrm", "mathbf", "mathit", "mathsf", "mathtt", "mathnormal", "operatorname", "boldsymbol",
    "bm", "mbox", "hbox", "underline", "overline", "textsc", "ensuremath", "url", "mathbold",
}  # fmt: skip
_ACCENTS = {
    "hat": "\u0302", "widehat": "\u0302", "tilde": "\u0303", "widetilde": "\u0303",
    "bar": "\u0304", "vec": "\u20d7", "dot": "\u0307", "ddot": "\u0308", "check": "\u030c",
    "acute": "\u0301", "grave": "\u0300", "breve": "\u0306",
    # text-mode accents: Schr\"odinger, \'etale, \c{c}
    '"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
}  # fmt: skip
# Sizing and spacing commands that carry no content of their own.
_SILENT = {
    "left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl",
    "biggr", "Biggl", "Biggr", "middle", "displaystyle", "textstyle", "scriptstyle", "limits",
    "nolimits", "!", "/", "allowbreak", "nobreak", "relax",
}  # fmt: skip
_SPACES = {",": " ", ";": " ", ":": " ", " ": " ", "quad": " ", "qquad": " ", "\\": " ", "\n": " "}
_OWN_SYMBOLS = {
    "%": "%", "&": "&", "$": "$", "#": "#", "_": "_", "{": "{", "}": "}", "|": "‖",
    "ne": "≠", "lVert": "‖", "rVert": "‖", "Vert": "‖", "lvert": "|", "rvert": "|", "vert": "|",
    "dots": "…", "ldots": "…", "cdots": "⋯", "star": "⋆", "ast": "*", "colon": ":",
    "lbrace": "{", "rbrace": "}", "iff": "⟺", "implies": "⟹", "top": "⊤",
    "intercal": "⊤", "prime": "′", "varnothing": "∅", "triangleq": "≜", "coloneqq": "≔",
    "argmax": "argmax", "argmin": "argmin", "lesssim": "≲", "gtrsim": "≳", "varphi": "φ",
}  # fmt: skip
# Relations and binary operators get a space each side in math: "m × n", "V ∈ ℝ", "F ≽ 0".
_SPACED = set("≤≥≠≈≡∼≃≅∝∈∉∋⊂⊃⊆⊇⊊×÷±∓→←↔⇒⇐⇔↦≪≫≲≳≺≻≼≽⪯⪰∪∩∧∨⊕⊗≜≔⟹⟺⩽⩾")
# C0/C1 controls (but tab and newline, which mail templates write) and the bidi overrides, with
# which a title could make the text around it read backwards. digest/render.py uses it too.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Math environments whose \begin{…} and \end{…} read as nothing; others are kept as written.
_ENVIRONMENT = re.compile(
    r"\{(?:equation|align|aligned|gather|multline|eqnarray|split|cases|array|[pbvV]?matrix)\*?\}"
)
_MACRO = re.compile(r"\\([A-Za-z]+|.)", re.DOTALL)


class _Hostile(Exception):
    """Input this converter will not read; the caller gets the raw text back."""


@functools.cache
def _symbols() -> dict[str, str]:
    """Macro name → Unicode, from pylatexenc's table of argument-free macros, then our own."""
    from pylatexenc import latex2text, latexwalker  # only its data: see the module docstring

    walker = latexwalker.get_default_latex_context_db()
    table = {}
    for spec in latex2text.get_default_latex_context_db().iter_macro_specs():
        repl = spec.simplify_repl
        if not isinstance(repl, str) or "%" in repl or spec.macroname == "today":
            continue
        parsed = walker.get_macro_spec(spec.macroname)
        if parsed is None or not getattr(parsed.args_parser, "argspec", ""):
            table[spec.macroname] = repl
    table.update(_OWN_SYMBOLS)
    return table


def latex_to_text(text: object, *, max_chars: int = MAX_CHARS) -> str:
    """`text` with its LaTeX made readable; never raises (see the module docstring), so
    anything other than a string (None, a number from JSON) is read as its str()."""
    if not text:
        return ""
    raw = CONTROL_CHARACTERS.sub("", " ".join(str(text).split()))
    if len(raw) > max_chars or "\\" not in raw and "$" not in raw:
        return raw
    try:
        return " ".join(_convert(raw).split())
    except _Hostile:
        return raw
    except Exception:
        log.warning("latex_to_text failed; keeping the source text", exc_info=True)
        return raw


def _convert(text: str) -> str:
    out = []
    for is_math, piece in _split_math(text):
        out.append(_Reader(piece, math=is_math).read_all())
    return "".join(out)


def _split_math(text: str) -> list[tuple[bool, str]]:
    """(is_math, piece) in order, with the delimiters removed from math pieces."""
    pieces: list[tuple[bool, str]] = []
    start = i = 0
    while i < len(text):
        closing, skip = None, 0
        if text.startswith("\\$", i):
            i += 2
            continue
        if text.startswith("\\(", i) or text.startswith("\\[", i):
            closing, skip = ("\\)" if text[i + 1] == "(" else "\\]"), 2
        elif text.startswith("$$", i):
            closing, skip = "$$", 2
        elif text[i] == "$" and i + 1 < len(text) and not text[i + 1].isspace():
            closing, skip = "$", 1
        end = _find_closing(text, i + skip, closing) if closing else -1
        if closing is None or end < 0:
            i += 1
            continue
        if start < i:
            pieces.append((False, text[start:i]))
        pieces.append((True, text[i + skip : end]))
        i = start = end + len(closing)
    if start < len(text):
        pieces.append((False, text[start:]))
    return pieces


def _find_closing(text: str, at: int, closing: str) -> int:
    while True:
        end = text.find(closing, at)
        if end < 0:
            return -1
        if text[end - 1] == "\\" and closing.startswith("$"):
            at = end + 1
            continue
        if closing == "$":
            after = text[end + 1 : end + 2]
            if text[end - 1].isspace() or after.isdigit() or end == at:
                return -1  # "$10 and $20" is money, not math
        return end


class _Reader:
    """Reads one piece (math or text) token by token, building its plain-text rendering."""

    def __init__(self, source: str, *, math: bool) -> None:
        self.source, self.math, self.at, self.depth = source, math, 0, 0

    def read_all(self) -> str:
        out = []
        while self.at < len(self.source):
            out.append(self.read_item(top=True))
        return "".join(out)

    def read_item(self, *, top: bool = False) -> str:
        """One token: a character, a macro with its arguments, or a braced group."""
        char = self.source[self.at]
        if char == "\\":
            return self.read_macro()
        if char == "{" and (self.math or not top):
            return self.read_group()
        if self.math and char in "^_":
            self.at += 1
            return self.script(char)
        self.at += 1
        if self.math and char == "~":
            return " "
        if self.math and char == "&":
            return " "
        return char

    def read_group(self) -> str:
        """A braced group's contents (the braces dropped); an unclosed one runs to the end."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Hostile("nested too deep")
        self.at += 1
        out = []
        while self.at < len(self.source) and self.source[self.at] != "}":
            out.append(self.read_item())
        self.at += 1
        self.depth -= 1
        return "".join(out)

    def read_argument(self) -> str:
        while self.at < len(self.source) and self.source[self.at] == " ":
            self.at += 1
        if self.at >= len(self.source):
            return ""
        if self.source[self.at] == "{":
            return self.read_group()
        self.depth += 1  # \hat\hat\hat… and ^^^… nest without braces
        if self.depth > MAX_DEPTH:
            raise _Hostile("nested too deep")
        item = self.read_item()
        self.depth -= 1
        return item

    def read_macro(self) -> str:
        start = self.at
        match = _MACRO.match(self.source, self.at)
        if match is None:  # a lone backslash at the end
            self.at += 1
            return "\\"
        name = match.group(1)
        self.at = match.end()
        if name in _SPACES:
            return _SPACES[name]
        if name in _SILENT:
            return ""
        environment = _ENVIRONMENT.match(self.source, self.at)
        if name in ("begin", "end") and environment:
            self.at = environment.end()  # the environment's name; its body reads as usual
            return " "
        if name == "frac" or name in ("dfrac", "tfrac"):
            return f"{_operand(self.read_argument())}/{_operand(self.read_argument())}"
        if name == "sqrt":
            index = ""
            if self.source.startswith("[", self.at):
                end = self.source.find("]", self.at)
                end = len(self.source) if end < 0 else end
                index = self.source[self.at + 1 : end].strip()
                index = "".join(_SUPERSCRIPTS.get(c, c) for c in index)
                self.at = end + 1
            body = self.read_argument()
            return index + "√" + (body if len(body) == 1 else f"({body})")
        if name == "href":
            url, label = self.read_argument(), self.read_argument()
            return f"{label} ({url})"
        if name in _FONTS:
            return "".join(_font_letter(c, _FONTS[name]) for c in self.read_argument())
        if name in _PLAIN_WRAPPERS:
            if self.source.startswith("*", self.at):  # \operatorname*{arg max}
                self.at += 1
            return self.read_argument()
        if name in _ACCENTS and (len(name) > 1 or not name.isalpha() or self._braced_next()):
            body = self.read_argument()
            return unicodedata.normalize("NFC", body + _ACCENTS[name]) if body else ""
        symbol = _symbols().get(name)
        if symbol is not None and self.math and symbol in _SPACED:
            return f" {symbol} "
        if symbol is not None:
            if name.isalpha() and len(symbol) > 1 and symbol.isalpha():
                return symbol + self._space_after()  # \log n → "log n", \max_x → "max"
            return symbol
        unknown = self.source[start : self.at]  # kept as written, never dropped
        while self._braced_next():
            unknown += "{" + self.read_group() + "}"
        return unknown

    def script(self, mark: str) -> str:
        body = self.read_argument().strip()
        table = _SUPERSCRIPTS if mark == "^" else _SUBSCRIPTS
        if mark == "^" and body in _SUPERSCRIPT_SYMBOLS:
            return _SUPERSCRIPT_SYMBOLS[body]
        if body and all(c in table for c in body):
            return "".join(table[c] for c in body)
        if len(body) <= 1:
            return mark + body
        return f"{mark}({body})"

    def _braced_next(self) -> bool:
        return self.source.startswith("{", self.at)

    def _space_after(self) -> str:
        nxt = self.source[self.at : self.at + 1]
        return " " if nxt.isalnum() or nxt == "\\" else ""


def _operand(text: str) -> str:
    text = text.strip()
    return text if len(text) <= 1 or text.isalnum() else f"({text})"


def _font_letter(char: str, font: str) -> str:
    if not char.isascii() or not char.isalnum():
        return char
    kind = "CAPITAL" if char.isupper() else "SMALL"
    if char.isdigit():
        name = f"MATHEMATICAL {font} DIGIT {unicodedata.name(char).split()[-1]}"
    else:
        name = f"{font} {kind} {char.upper()}"
    for candidate in (name, f"MATHEMATICAL {name}"):
        try:
            return unicodedata.lookup(candidate)
        except KeyError:
            continue
    return char
