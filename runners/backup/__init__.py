"""Scheduled backups: snapshot, ship to the backup region, prune, report.

``engines/`` holds one module per resource kind; the workflow modules here
(``creator``, ``copier``, ``retention``, ``prune``, ``report``) are the same
for every kind. Tags on the snapshots are the only state (``tags``).
"""
