"""The jinja2 environments of the plan report and the notifications.

Compiling a template costs about 0.1 s, which every ``runners plan`` would pay
again. The compiled code is kept in jinja2's own bytecode cache, a private
directory per user under the system's temp dir (mode 0700, ownership checked by
jinja2, written by temp file and rename); a template's checksum is part of the
key, so an edited template is compiled afresh. The cache holds template code
only, never a rendered value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2


def environment(folder: str, **options: Any) -> jinja2.Environment:
    """An environment loading ``runners/<folder>``, strict about undefined names."""
    import jinja2  # only rendering needs it; most commands never render

    try:
        cache: jinja2.BytecodeCache | None = jinja2.FileSystemBytecodeCache()
    except RuntimeError:  # no usable private temp dir: compile every time
        cache = None
    # Callers render Markdown, TOML and plain text and pass autoescape themselves.
    return jinja2.Environment(  # noqa: S701
        loader=jinja2.PackageLoader("runners", folder),
        undefined=jinja2.StrictUndefined,
        bytecode_cache=cache,
        **options,
    )
