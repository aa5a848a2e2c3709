"""Disaster recovery: rebuild a stack in the backup region, and rehearse it.

- ``prepare`` (with ``statefile``, ``addresses``, ``images``, ``zones``,
  ``snapshots``, ``keys``): the variables that plan a stack in the backup
  region, and the runbook (``runbook``) that says what they restore;
- ``drplan``: plan with them through the ordinary plan machinery;
- ``verify`` (with ``restorers/``): restore the newest copies to throwaway
  volumes and databases, check them, delete them, time them;
- ``s3ship``: copy backup objects to the backup region's bucket.

``settings`` parses the ``[dr]`` table of runners.toml.
"""
