"""Change control: plan a stack into reviewable artifacts, and apply only the reviewed plan.

``planner`` and ``plan_jobs`` make plans (``plan_start`` is the light first
moment of ``runners plan``); ``affected`` and ``affected_stacks`` decide which
stacks a merge request touches; ``manifest`` and ``contract`` say what a plan
is and whether it may be applied; ``applier`` applies it under the runner's
``locks``; ``stores`` says where locks and records live. ``runners.terraform``
only runs Terraform and reads its files.
"""
