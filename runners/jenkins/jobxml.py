"""Job config.xml as runners reads, compares and writes it. Pure functions, no I/O.

Ownership: a job runners made carries ``[runners:managed FINGERPRINT]`` in its
description. Without the marker a job is someone else's and is never touched.
The fingerprint hashes what runners rendered, so a second sync that would post
the same thing is "unchanged" however Jenkins re-serialized the file (it adds
``plugin="name@version"`` attributes, an XML 1.1 declaration, and may add or
drop defaulted fields when plugins change).

Merging: runners owns the elements it renders (the definition, the
parameters, the schedule, a multibranch job's sources and scan trigger);
everything else in the live config is kept. A Jenkinsfile's ``options`` land in
job properties at run time (Declarative records them in ``actions``), an
operator may disable a job, a folder holds credentials: posting the template
as it stands would wipe all of that.

Essentials: the fingerprint says whether runners' rendering changed, not
whether someone changed the job in Jenkins. What decides which code runs with
which schedule (an inline pipeline script and its sandbox, the schedule, a
multibranch job's discovery and scan) is therefore read from the live config
and compared too: a job whose essentials differ is updated, never "unchanged".
"""

from __future__ import annotations

import difflib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from runners.errors import InputError
from runners.fsutil import sha256_bytes

MARKER = "[runners:managed]"
_MARKER_RE = re.compile(r"\[runners:managed(?: ([0-9a-f]{16}))?\]")

# Top-level elements Jenkins or an operator owns once the job exists.
KEEP_LIVE = frozenset({"actions", "disabled"})
# Job properties runners owns inside <properties>; any other property is kept.
SCHEDULE_PROPERTY = "org.jenkinsci.plugins.workflow.job.properties.PipelineTriggersJobProperty"
OWNED_PROPERTIES = frozenset({"hudson.model.ParametersDefinitionProperty", SCHEDULE_PROPERTY})
INLINE_DEFINITION = "org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition"
MULTIBRANCH = "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject"
SCAN_TRIGGER = "com.cloudbees.hudson.plugins.folder.computed.PeriodicFolderTrigger"


@dataclass(frozen=True)
class Ownership:
    managed: bool
    fingerprint: str | None


def parse(text: str, where: str) -> ET.Element:
    try:
        # Jenkins writes XML 1.1 declarations, which expat refuses; the body is 1.0-compatible.
        body = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)
        return ET.fromstring(body)  # noqa: S314  # trusted: our templates and our Jenkins
    except ET.ParseError as exc:
        raise InputError(f"{where}: not well-formed XML ({exc})") from None


def canonical(root: ET.Element) -> str:
    """Indented XML without plugin versions or layout whitespace: what a person diffs."""
    copy = _strip(root)
    ET.indent(copy, space="  ")
    return ET.tostring(copy, encoding="unicode") + "\n"


def _strip(element: ET.Element) -> ET.Element:
    out = ET.Element(element.tag, {k: v for k, v in element.attrib.items() if k != "plugin"})
    text = element.text or ""
    out.text = text if text.strip() else None
    for child in element:
        out.append(_strip(child))
    for child in out:
        child.tail = None
    return out


def fingerprint(rendered: str) -> str:
    """A short hash of a rendering made with the bare marker, stable across whitespace."""
    return sha256_bytes(canonical(parse(rendered, "template")).encode("utf-8"))[:16]


def stamp(rendered: str, print_: str) -> str:
    """Put the fingerprint into the bare marker of a rendering."""
    if rendered.count(MARKER) != 1:
        raise InputError(f"a job template must render {MARKER} exactly once in its description")
    return rendered.replace(MARKER, f"[runners:managed {print_}]")


def marked(description: str) -> bool:
    return _MARKER_RE.search(description) is not None


def ownership(root: ET.Element) -> Ownership:
    description = root.findtext("description") or ""
    found = _MARKER_RE.search(description)
    if not found:
        return Ownership(managed=False, fingerprint=None)
    return Ownership(managed=True, fingerprint=found.group(1))


def essentials(root: ET.Element) -> dict[str, str]:
    """What decides which code a job runs, with what, and when; one string each.

    ``definition`` is the class of a pipeline job's definition; ``script`` and
    ``sandbox`` its inline pipeline; ``scm`` the repositories and branches a
    definition from SCM follows; ``schedule`` the cron specs in the job's
    properties; ``scan`` a multibranch job's periodic scan interval (ms);
    ``discovery`` the traits of its branch sources; ``script_path`` the file it
    runs. Absent facts are absent keys.
    """
    facts: dict[str, str] = {}
    definition = root.find("definition")
    if definition is not None:
        facts["definition"] = definition.get("class", "")
        if definition.find("script") is not None:
            facts["script"] = definition.findtext("script") or ""
            facts["sandbox"] = (definition.findtext("sandbox") or "false").strip()
        scm = definition.find("scm")
        if scm is not None:
            urls = [u.text or "" for u in scm.iter("url")]
            branches = [b.text or "" for b in scm.iter("name")]
            facts["scm"] = f"{' '.join(urls)} @ {' '.join(branches)}"
            facts["script_path"] = (definition.findtext("scriptPath") or "").strip()
    specs = [
        (spec.text or "").strip()
        for prop in root.findall(f"properties/{SCHEDULE_PROPERTY}")
        for spec in prop.iter("spec")
    ]
    if specs:
        facts["schedule"] = " | ".join(specs)
    scan = root.find(f"triggers/{SCAN_TRIGGER}")
    if scan is not None:
        facts["scan"] = (scan.findtext("interval") or "").strip()
    sources = root.find("sources")
    if sources is not None:
        traits = sorted(t.tag for t in sources.iter() if t.tag.endswith("Trait"))
        facts["discovery"] = " ".join(traits)
        facts["script_path"] = (root.findtext("factory/scriptPath") or "").strip()
    return facts


def essentials_differ(live: ET.Element, desired: ET.Element) -> list[str]:
    """The names of the essentials that differ, in a stable order."""
    have, want = essentials(live), essentials(desired)
    return sorted(k for k in have.keys() | want.keys() if have.get(k) != want.get(k))


def merge(live: ET.Element, desired: ET.Element) -> ET.Element:
    """The live config with runners' elements replaced by the desired ones."""
    out = _copy(live)
    for child in desired:
        if child.tag in KEEP_LIVE and out.find(child.tag) is not None:
            continue
        if child.tag == "properties":
            _merge_properties(out, child)
            continue
        _replace(out, _copy(child))
    return out


def _merge_properties(out: ET.Element, desired: ET.Element) -> None:
    props = out.find("properties")
    if props is None:
        _replace(out, _copy(desired))
        return
    wanted = {p.tag for p in desired}
    for prop in list(props):
        if prop.tag in OWNED_PROPERTIES and prop.tag not in wanted:
            props.remove(prop)
    for prop in desired:
        _replace(props, _copy(prop))


def _replace(parent: ET.Element, child: ET.Element) -> None:
    """Swap the first element with the same tag for ``child``, or append it."""
    for index, existing in enumerate(parent):
        if existing.tag == child.tag:
            parent[index] = child
            return
    parent.append(child)


def _copy(element: ET.Element) -> ET.Element:
    out = ET.Element(element.tag, dict(element.attrib))
    out.text, out.tail = element.text, element.tail
    out.extend(_copy(c) for c in element)
    return out


def to_text(root: ET.Element) -> str:
    return "<?xml version='1.1' encoding='UTF-8'?>\n" + canonical(root)


def diff(before: str | None, after: str, name: str) -> str:
    """A unified diff of two canonical texts; ``before`` None means the job is new."""
    lines_before = before.splitlines(keepends=True) if before is not None else []
    return "".join(
        difflib.unified_diff(
            lines_before,
            after.splitlines(keepends=True),
            fromfile=f"jenkins:{name}" if before is not None else "/dev/null",
            tofile=f"runners:{name}",
        )
    )
