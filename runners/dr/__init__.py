"""Disaster recovery: rebuild a stack in the backup region, and rehearse it.

``dr prepare`` (``workflow``, ``prepare``): what the stack has comes from its
state (``statefile``, ``addresses``, ``stackcode``); images (``images``),
zones (``zones``), the newest shipped snapshots (``snapshots``) and the key
(``keys``) are looked up in the target region; ``runbook`` and ``outputs``
write the files. ``dr plan`` (``drplan``) plans with them through the
ordinary plan machinery; ``actions`` is what the two subcommands run.

``verify-restore`` (``verify``, ``checks``, ``verify_report``): one restorer
per kind of throwaway in ``restorers/``. ``ship-s3`` (``s3ship``, ``s3diff``,
``s3report``). ``settings`` parses ``[dr]``; ``tags`` names what DR writes;
``demo`` is the part of ``make demo`` that runs prepare.
"""
