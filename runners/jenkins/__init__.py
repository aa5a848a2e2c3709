"""Jenkins on the utility server: the ``[jenkins]`` settings, a small client over
python-jenkins, job sync, triggered builds and merge-request comments.

Kept light on purpose: ``runners.config`` imports ``settings`` from here, so
nothing in this package imports python-jenkins at module level.
"""
