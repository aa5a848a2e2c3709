"""A new client: its repository (``init``), what Terraform stands on (``bootstrap``), and
the checks that say it is ready for its first merge request (``doctor``).

``inputs`` checks what the operator typed, ``templateset`` and ``render`` make the
repository's files from a template set under ``terraform/templates/``, ``repository``
writes them into a git repository, ``names`` is the one place the account's names are
made, ``settings`` reads ``[bootstrap]`` of runners.toml, ``bootstrap`` makes the state
bucket and its replica with boto3 and ``imports`` hands them to Terraform; ``doctor``
holds the checks.
"""
