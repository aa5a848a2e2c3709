"""Just enough Groovy and shell reading to check Jenkinsfiles against the runners CLI.

``Source`` splits a Jenkinsfile into string literals (decoded, with Groovy
``${...}``/``$name`` interpolations replaced by a placeholder) and a "code
view" in which strings and comments are blanked out, so searches for steps
and braces never match inside a string. ``sh_steps`` finds every ``sh`` step
and its script; ``runners_invocations`` turns a script into the argv of each
``runners`` command in it, after shell line continuations and parameter
expansion (``$X`` and ``${X:-w}`` become a placeholder, ``${X:+words}``
becomes its words, so a flag hidden there is checked too).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

PLACEHOLDER = "1"  # passes for str, int, float and Path arguments alike

_SH = re.compile(r"(?<![\w.$])sh\b(\s*\()?")
_OPERATORS = frozenset({"&&", "||", ";", "|", "&", ";;", "(", ")"})
_REDIRECTS = frozenset({">", ">>", "<", ">&", "<&", "&>", ">|", "<<"})


@dataclass(frozen=True)
class Literal:
    start: int
    end: int  # index after the closing quote
    value: str


@dataclass(frozen=True)
class ShStep:
    line: int
    script: str
    offset: int  # where the step starts in the file


class Source:
    def __init__(self, text: str) -> None:
        self.text = text
        self.literals: list[Literal] = []
        code = list(text)
        i = 0
        while i < len(text):
            if text.startswith("//", i):
                end = text.find("\n", i)
                end = len(text) if end < 0 else end
                _blank(code, i, end)
                i = end
            elif text.startswith("/*", i):
                end = text.index("*/", i) + 2
                _blank(code, i, end)
                i = end
            elif text[i] in "'\"":
                literal = _read_literal(text, i)
                self.literals.append(literal)
                _blank(code, i, literal.end)
                i = literal.end
            else:
                i += 1
        self.code = "".join(code)

    def line_of(self, index: int) -> int:
        return self.text.count("\n", 0, index) + 1

    def literal_at(self, index: int) -> Literal | None:
        """The first literal starting at or after ``index`` with only blanks before it."""
        for lit in self.literals:
            if lit.start >= index:
                return lit if not self.code[index : lit.start].strip() else None
        return None

    def matching(self, open_index: int) -> int:
        """Index of the bracket closing the one at ``open_index`` (in code view)."""
        pairs = {"(": ")", "{": "}", "[": "]"}
        opener = self.code[open_index]
        closer, depth = pairs[opener], 0
        for j in range(open_index, len(self.code)):
            if self.code[j] == opener:
                depth += 1
            elif self.code[j] == closer:
                depth -= 1
                if depth == 0:
                    return j
        raise ValueError(f"unbalanced {opener} at line {self.line_of(open_index)}")

    def block_after(self, index: int) -> tuple[int, int]:
        """The ``{ ... }`` that follows ``index``: (open, close) positions."""
        open_index = self.code.index("{", index)
        return open_index, self.matching(open_index)

    def literals_in(self, start: int, end: int) -> list[Literal]:
        return [lit for lit in self.literals if start <= lit.start < end]

    def calls(self, name: str) -> list[tuple[int, int, int]]:
        """Each ``name(...)`` call: (start, open paren, close paren)."""
        found = []
        for match in re.finditer(rf"(?<![\w.]){re.escape(name)}\s*\(", self.code):
            open_index = match.end() - 1
            found.append((match.start(), open_index, self.matching(open_index)))
        return found

    def blocks(self, name: str) -> list[tuple[int, int, int]]:
        """Each ``name(...) { ... }`` or ``name { ... }``: (start, open brace, close brace)."""
        found = []
        for match in re.finditer(rf"(?<![\w.]){re.escape(name)}\b", self.code):
            rest = match.end()
            paren = re.match(r"\s*\(", self.code[rest:])
            if paren:
                rest = self.matching(rest + paren.end() - 1) + 1
            brace = re.match(r"\s*\{", self.code[rest:])
            if brace:
                open_index = rest + brace.end() - 1
                found.append((match.start(), open_index, self.matching(open_index)))
        return found


def _blank(code: list[str], start: int, end: int) -> None:
    for j in range(start, end):
        if code[j] != "\n":
            code[j] = " "


def _read_literal(text: str, i: int) -> Literal:
    quote = text[i] * 3 if text.startswith(text[i] * 3, i) else text[i]
    j = i + len(quote)
    out: list[str] = []
    interpolating = quote[0] == '"'
    while not text.startswith(quote, j):
        if j >= len(text) or (len(quote) == 1 and text[j] == "\n"):
            raise ValueError(f"unterminated string starting at offset {i}")
        ch = text[j]
        if ch == "\\":
            nxt = text[j + 1]
            if nxt != "\n":  # backslash-newline is a Groovy line continuation
                out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            j += 2
        elif interpolating and ch == "$" and text.startswith("${", j):
            out.append(PLACEHOLDER)
            j = _after_braces(text, j + 1)
        elif interpolating and ch == "$" and re.match(r"[A-Za-z_]", text[j + 1 : j + 2]):
            j = re.compile(r"\$[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*").match(text, j).end()  # type: ignore[union-attr]
            out.append(PLACEHOLDER)
        else:
            out.append(ch)
            j += 1
    return Literal(i, j + len(quote), "".join(out))


def _after_braces(text: str, open_index: int) -> int:
    """The index after the ``}`` that closes the ``{`` at ``open_index``."""
    depth = 0
    for k in range(open_index, len(text)):
        depth += {"{": 1, "}": -1}.get(text[k], 0)
        if depth == 0:
            return k + 1
    raise ValueError(f"unbalanced {{ at offset {open_index}")


def sh_steps(source: Source) -> list[ShStep]:
    steps = []
    for match in _SH.finditer(source.code):
        if match.group(1):  # sh(...): the script: argument, else the first positional one
            close = source.matching(match.end() - 1)
            args = source.code[match.end() : close]
            named = re.search(r"\bscript\s*:", args)
            at = match.end() + named.end() if named else match.end()
        else:
            at = match.end()
        script = _concatenated(source, at)
        if script is None:
            raise ValueError(
                f"line {source.line_of(match.start())}: sh step without a literal script"
            )
        steps.append(ShStep(source.line_of(match.start()), script, match.start()))
    return steps


def _concatenated(source: Source, at: int) -> str | None:
    """A literal, or literals joined with ``+``."""
    first = source.literal_at(at)
    if first is None:
        return None
    parts, end = [first.value], first.end
    while True:
        plus = re.match(r"\s*\+", source.code[end:])
        nxt = source.literal_at(end + plus.end()) if plus else None
        if nxt is None:
            return "".join(parts)
        parts.append(nxt.value)
        end = nxt.end


def expand_shell(script: str) -> str:
    """Join continuations and replace parameter expansions (see the module docstring)."""
    script = script.replace("\\\n", " ")
    out, i = [], 0
    while i < len(script):
        if script.startswith("${", i):
            k = _after_braces(script, i + 1)
            inner = script[i + 2 : k - 1]
            _name, op, word = re.match(r"([A-Za-z_]\w*)(:?[-+=?]?)(.*)", inner, re.S).groups()  # type: ignore[union-attr]
            out.append(expand_shell(word) if op in (":+", "+") else PLACEHOLDER)
            i = k
        elif script[i] == "$" and re.match(r"[A-Za-z_]", script[i + 1 : i + 2]):
            i = re.compile(r"\$[A-Za-z_]\w*").match(script, i).end()  # type: ignore[union-attr]
            out.append(PLACEHOLDER)
        else:
            out.append(script[i])
            i += 1
    return "".join(out)


def runners_invocations(script: str) -> list[list[str]]:
    """The arguments after ``runners`` for each command in a shell script that runs it."""
    found = []
    for line in expand_shell(script).splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        command: list[str] = []
        for token in [*lexer, ";"]:
            if token in _OPERATORS:
                _take(command, found)
                command = []
            else:
                command.append(token)
    return found


def _take(command: list[str], found: list[list[str]]) -> None:
    words = list(command)
    for index, word in enumerate(words):
        if word in _REDIRECTS:  # drop a redirection (and its fd number) and all after it
            words = words[: index - 1 if index and words[index - 1].isdigit() else index]
            break
    while words and re.match(r"^[A-Za-z_]\w*=", words[0]):  # VAR=value prefixes
        words.pop(0)
    if words and (words[0] == "runners" or words[0].endswith("/runners")):
        found.append(words[1:])
