"""The find-and-replace the seed describes, done by a machine: regional literals in a stack.

``dr prepare`` sets the variables it knows (region, zones, snapshots, images,
key). Anything else in the stack's code or variable files that names the lost
region passes into the rebuild unnoticed: a certificate ARN in
``production.tfvars`` that only exists in eu-west-1, a subnet id written into
a module. This scan finds each one, with its file and line:

- the source region's name (and its zones: ``eu-west-1a``);
- ARNs in the source region;
- resource ids (``ami-``, ``subnet-``, ``sg-``, ``vol-``...): an id exists in
  one region only.

A literal is **mapped** when the variable it sets is set again for the
rebuild, by ``dr prepare``'s own variables or by the stack's DR variable
files (``[dr.stacks.NAME] var_files``, reviewed like the rest of the code).
A default of a variable that something sets is not used, so it is left out.
Every other literal is listed as NOT MAPPED. Comments and the ``description``
and ``error_message`` texts are documentation and are not scanned.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

_TOP_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*=")
_VARIABLE_BLOCK = re.compile(r'^variable\s+"?([A-Za-z_][A-Za-z0-9_-]*)"?\s*\{')
_DOC_ATTR = re.compile(r"^\s*(description|error_message)\s*=")
_HEREDOC = re.compile(r"<<-?\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")
_ID = re.compile(
    r"\b(?:ami|snap|vol|subnet|vpc|sg|i|eni|igw|nat|rtb|acl|eipalloc|lt|vpce|tgw|fs|fsap"
    r"|cgw|vgw|pcx|vpn|rtbassoc|dopt)-(?:[0-9a-f]{17}|[0-9a-f]{8})\b"
)


@dataclass(frozen=True)
class Literal:
    file: str  # relative to the repository root
    line: int
    text: str  # the literal itself
    variable: str | None  # the variable it sets (var files) or defaults (code); None: code
    mapped_by: str | None  # what sets that variable for the rebuild; None: NOT MAPPED

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def describe(self) -> str:
        role = f"variable {self.variable}" if self.variable else "code"
        return f"{self.text} ({role})"


def patterns(region: str) -> list[re.Pattern[str]]:
    """ARNs in ``region`` first, then the region's name (and zones), then resource ids."""
    name = re.escape(region)
    return [
        re.compile(rf"arn:aws[a-z-]*:[a-z0-9-]+:{name}:[^\s\"',\]}}]*"),
        re.compile(rf"\b{name}[a-z]?\b"),
        _ID,
    ]


def find(text: str, region: str) -> list[str]:
    """The regional literals in one line of text, each once, left to right. Pure."""
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, str]] = []
    for pattern in patterns(region):
        for m in pattern.finditer(text):
            if any(a <= m.start() < b for a, b in taken):
                continue  # the region inside an ARN is the ARN's
            taken.append((m.start(), m.end()))
            found.append((m.start(), m.group(0)))
    return [t for _, t in sorted(found)]


def code_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, the line without comments) for HCL; documentation attributes dropped."""
    in_block = False
    heredoc: str | None = None
    skip_heredoc = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if heredoc is not None:
            if raw.strip() == heredoc:
                heredoc = None
            elif not skip_heredoc:
                yield number, raw
            continue
        line, in_block = _strip_comments(raw, in_block)
        doc = bool(_DOC_ATTR.match(line))
        opened = _HEREDOC.search(line)
        if opened:
            heredoc, skip_heredoc = opened.group(1), doc
        if not doc:
            yield number, line


def _strip_comments(line: str, in_block: bool) -> tuple[str, bool]:
    out = []
    i, quoted = 0, False
    while i < len(line):
        two = line[i : i + 2]
        if in_block:
            if two == "*/":
                in_block, i = False, i + 2
            else:
                i += 1
            continue
        char = line[i]
        if quoted:
            out.append(char)
            if char == "\\":
                out.append(line[i + 1 : i + 2])
                i += 1
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
            out.append(char)
        elif char == "#" or two == "//":
            break
        elif two == "/*":
            in_block, i = True, i + 1
        else:
            out.append(char)
        i += 1
    return "".join(out), in_block


def scan_hcl(text: str, region: str, *, code: bool) -> list[tuple[int, str, str | None]]:
    """(line, literal, variable) in a .tf file (``code``) or an HCL .tfvars file. Pure."""
    found = []
    current: str | None = None
    for number, line in code_lines(text):
        if code:
            block = _VARIABLE_BLOCK.match(line)
            if block:
                current = block.group(1)
            elif line.startswith("}"):
                current = None
            elif line[:1].isalpha():
                current = None  # another top-level block: code, not a default
        else:
            assign = _TOP_ASSIGN.match(line)
            if assign:
                current = assign.group(1)
        for literal in find(line, region):
            found.append((number, literal, current))
    return found


def scan_json(text: str, region: str) -> list[tuple[int, str, str | None]]:
    """(line, literal, top-level key) in a .tfvars.json file. Pure."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return [(1, literal, None) for literal in find(text, region)]
    lines = text.splitlines()
    found: list[tuple[int, str, str | None]] = []
    for key, value in doc.items() if isinstance(doc, dict) else ():
        for literal in dict.fromkeys(find(json.dumps(value), region)):
            number = next((n for n, ln in enumerate(lines, 1) if literal in ln), 1)
            found.append((number, literal, str(key)))
    return found


def set_by(path: Path) -> set[str]:
    """The variables a var file sets."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.name.endswith(".json"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            return set()
        return set(doc) if isinstance(doc, dict) else set()
    return {m.group(1) for _, line in code_lines(text) if (m := _TOP_ASSIGN.match(line))}


@dataclass(frozen=True)
class Sources:
    """What one stack's rebuild is made of, for the scan."""

    root: Path  # the repository root, for relative names
    code_dirs: tuple[Path, ...]  # the stack's folder and the local modules it calls
    var_files: tuple[Path, ...]  # the environment's
    dr_var_files: tuple[Path, ...]  # the stack's DR variable files for this region


def scan(
    sources: Sources, region: str, prepared: Collection[str], prepared_by: str
) -> list[Literal]:
    """Every regional literal of the stack, mapped or not.

    ``prepared``: the variables ``dr prepare`` writes (in ``prepared_by``).
    """
    setters: dict[str, str] = dict.fromkeys(prepared, prepared_by)
    for path in sources.dr_var_files:
        for name in set_by(path) if path.is_file() else ():
            setters.setdefault(name, _rel(sources.root, path))
    in_env_files = {name for p in sources.var_files if p.is_file() for name in set_by(p)}
    out: list[Literal] = []
    for index, folder in enumerate(sources.code_dirs):
        stack = index == 0  # the others are modules: their variables are not the stack's
        for tf in sorted(folder.glob("*.tf")):
            for line, text, variable in scan_hcl(_read(tf), region, code=True):
                used = variable is None or variable not in set(setters) | in_env_files
                if stack and not used:
                    continue  # a default that is never used
                out.append(
                    Literal(_rel(sources.root, tf), line, text, variable if stack else None, None)
                )
    for path in sources.var_files:
        out += _scan_file(sources.root, path, region, setters)
    for path in sources.dr_var_files:
        # The replacement values themselves: a source-region literal here is a mistake.
        out += _scan_file(sources.root, path, region, {})
    return out


def _scan_file(root: Path, path: Path, region: str, setters: Mapping[str, str]) -> list[Literal]:
    if not path.is_file():
        return []
    text = _read(path)
    found = (
        scan_json(text, region)
        if path.name.endswith(".json")
        else scan_hcl(text, region, code=False)
    )
    return [
        Literal(_rel(root, path), line, literal, variable, setters.get(variable or ""))
        for line, literal, variable in found
    ]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def _rel(root: Path, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
