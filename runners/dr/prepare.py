"""``dr prepare`` for one stack: from the stack's state and the shipped copies to its DR variables.

Where each input comes from, and why (docs/dr.md says the same for people):

- **What the stack has** (volumes, databases, servers) comes from its
  Terraform state, read from the replica in the backup region when
  ``[dr.state]`` says so. The state is the one record that is always current:
  a volume replaced last week has its new id there, so nothing hand-kept can
  go stale, and the replica survives the region.
- **Which variable each one feeds** comes from ``[dr.stacks.NAME]``: written
  once, reviewed, and checked against the stack's declared variables.
- **Which snapshot restores it** comes from the backup tags on the copies in
  the target region (``runners:source-id``, ``runners:copy-of``,
  ``runners:taken-at``), so no other record is needed.
- **Images, zones and the key** are looked up in the target region itself.

Nothing here asks the source region: on the day this runs it does not answer.
The state comes from its replica, everything else from the target region.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from runners import log
from runners.aws.retry import error_code
from runners.backup import tags as T
from runners.backup.model import Place, Snapshot
from runners.backup.policy import Policy
from runners.dr import images, keys, literals, snapshots, statefile, stateful, zones
from runners.dr.addresses import IMAGE_HOLDERS, RESTORABLE, Pattern
from runners.dr.clients import DrClients
from runners.dr.model import DnsRecord, Missing, Preparation, Restore, Slot
from runners.dr.settings import StackRecovery
from runners.dr.snapshots import INSTANCE, Point
from runners.dr.stackcode import declared_variables
from runners.errors import InputError, UsageError
from runners.terraform.modules import local_closure

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_ssm import SSMClient

    from runners.config import Config, Environment
    from runners.dr.statefile import StackState, StateResource

VOLUME = "ebs-volume"

_EMPTY = {
    "ebs-volume": "the plan creates this volume empty",
    "rds-instance": "the plan creates a new, empty database",
    "aurora-cluster": "the plan creates a new, empty cluster",
}


@dataclass(frozen=True)
class Request:
    cfg: Config
    recovery: StackRecovery
    env: Environment
    policy: Policy
    target_region: str
    account: str | None = None


def prepare(
    request: Request, clients: DrClients, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> Preparation:
    cfg, recovery, env, policy = request.cfg, request.recovery, request.env, request.policy
    target = request.target_region
    if target == env.region:
        raise UsageError(
            f"--to-region {target} is {env.name}'s own region; give the region to rebuild in"
        )
    if target != policy.backup_region:
        log.warn(
            f"policy {policy.name} ships copies to {policy.backup_region}, not {target}: "
            "no snapshot will be found there"
        )
    prep = Preparation(
        stack=recovery.stack,
        environment=env.name,
        source_region=env.region,
        target_region=target,
        policy=policy.name,
        rpo_hours=policy.rpo_hours,
        prepared_at=now(),
        kms_alias=policy.kms_key_alias,
        manual_steps=recovery.manual_steps,
    )
    stack = cfg.stack(recovery.stack)
    declared = declared_variables(stack.dir)
    for variable in recovery.variables():
        if variable not in declared:
            prep.missing.append(
                Missing(
                    variable,
                    f"stack {stack.name} declares no variable {variable!r}",
                    "Terraform would ignore it; fix [dr.stacks] in runners.toml",
                )
            )
    state = _state(request, clients, prep)
    place = Place(request.account, target)
    _restores(request, clients, state, place, prep)
    prep.dns = dns_records(state)
    _images(request, clients, state, prep)
    _zones(request, clients, state, prep)
    kms: KMSClient = clients.kms(target, request.account)
    key = keys.resolve(kms, policy.kms_key_alias, target)
    if isinstance(key, Missing):
        prep.missing.append(key)
    else:
        prep.kms_key = key
    prep.variables = variables(recovery, prep, declared)
    _literals(request, prep)
    return prep


def _state(request: Request, clients: DrClients, prep: Preparation) -> StackState:
    """The stack's state, from the replica ``[dr.state]`` names; StateUnreadable when it cannot be."""
    cfg, env = request.cfg, request.env
    stack = cfg.stack(request.recovery.stack)
    overlay = statefile.fill(cfg.dr.state, stack.name, env.name, request.target_region)
    settings = statefile.overlay(cfg.backend_for(stack, env), overlay)
    location = statefile.locate(stack.dir, settings, cfg.path)
    prep.state = str(location)
    s3: S3Client | None = None
    if location.backend == "s3":
        s3 = clients.client("s3", location.region or env.region, request.account)
    state = statefile.parse(statefile.fetch(location, s3), location)
    prep.state_serial = state.serial
    return state


def dns_records(state: StackState) -> list[DnsRecord]:
    return [
        DnsRecord(
            r.address,
            r.attributes.get("name", ""),
            r.attributes.get("type", ""),
            r.attributes.get("records", ""),
            r.attributes.get("failover", ""),
            r.attributes.get("health_check_id", ""),
        )
        for r in state.resources
        if r.mode == "managed" and r.type == "aws_route53_record"
    ]


def matches(state: StackState, pattern: Pattern) -> list[tuple[str, StateResource]]:
    """(key, resource) for each managed resource of the state the pattern picks, by key."""
    found = [
        (key, r)
        for r in state.resources
        if r.mode == "managed" and (key := pattern.match(r.address)) is not None
    ]
    return sorted(found, key=lambda pair: pair[0])


def _slot(variable: str, pattern: Pattern, key: str) -> Slot:
    return Slot(variable, key if pattern.keyed else None)


def _restores(
    request: Request, clients: DrClients, state: StackState, place: Place, prep: Preparation
) -> set[str]:
    """Map each volume and database the patterns pick; the addresses they pick."""
    wanted = request.recovery.snapshots
    kinds = {RESTORABLE[p.resource_type][0] for p in wanted.values()}
    if VOLUME in kinds:
        kinds.add(INSTANCE)  # a volume may be restored from its instance's backup
    listed, failed = snapshots.shipped(clients, place, request.policy.name, sorted(kinds))
    points = snapshots.newest_points(listed, place.region)
    members = snapshots.instance_members(points)
    covered: set[str] = set()
    for variable, pattern in wanted.items():
        kind, attribute = RESTORABLE[pattern.resource_type]
        found = matches(state, pattern)
        if not found:
            prep.missing.append(
                Missing(variable, f"no resource in the state matches {pattern.text}", _EMPTY[kind])
            )
        for key, resource in found:
            covered.add(resource.address)
            slot = _slot(variable, pattern, key)
            source_id = resource.attributes.get(attribute)
            snap = _newest(kind, source_id, points, members) if source_id else None
            if not source_id:
                why = f"{resource.address} has no {attribute} in the state"
                prep.missing.append(Missing(str(slot), why, _EMPTY[kind]))
            elif snap is None and kind in failed:
                why = f"cannot list {kind} snapshots in {place}: {failed[kind]}"
                prep.missing.append(Missing(str(slot), why, _EMPTY[kind]))
            elif snap is None:
                also = " or of an instance backup holding it" if kind == VOLUME else ""
                why = (
                    f"no completed copy of {kind} {source_id}{also} in {place.region} "
                    f"(policy {request.policy.name})"
                )
                prep.missing.append(Missing(str(slot), why, _EMPTY[kind]))
            else:
                prep.restores.append(_restore(slot, resource, snap, source_id))
    start_empty = request.recovery.start_empty
    prep.unrestored = stateful.unrestored(state, covered, start_empty)
    prep.unrestored += stateful.orphan_members(state, points, start_empty)
    for item in prep.unrestored:
        if not item.accepted:
            prep.missing.append(Missing(item.address, item.why, item.consequence))
    return covered


def _newest(
    kind: str, source_id: str, points: dict[tuple[str, str], Point], members: dict[str, Snapshot]
) -> Snapshot | None:
    """The newest completed copy that restores ``source_id``: its own backup or its instance's."""
    candidates = [points[(kind, source_id)][0]] if (kind, source_id) in points else []
    if kind == VOLUME and source_id in members:
        candidates.append(members[source_id])
    return max(candidates, key=lambda s: s.taken_at, default=None)


def _restore(slot: Slot, resource: StateResource, snap: Snapshot, source_id: str) -> Restore:
    via = ""
    if snap.kind == INSTANCE:
        via = f"{snap.source_id} {snap.tags.get(T.DEVICE, '')}".strip()
    return Restore(
        slot=slot,
        address=resource.address,
        kind=snap.kind,
        source_id=source_id,
        snapshot_id=snap.id,
        taken_at=snap.taken_at,
        source_snapshot=snap.copy_of or "",
        via=via,
    )


def _images(request: Request, clients: DrClients, state: StackState, prep: Preparation) -> None:
    if not request.recovery.images:
        return
    ssm: SSMClient = clients.client("ssm", request.target_region, request.account)
    lookup = images.ImageLookup(
        state=state,
        target=clients.ec2(request.target_region, request.account),
        ssm=ssm,
        source_region=request.env.region,
        target_region=request.target_region,
        parameter=request.recovery.image_parameter,
    )
    wanted: list[tuple[Slot, StateResource, str]] = []
    for variable, pattern in request.recovery.images.items():
        attribute = IMAGE_HOLDERS[pattern.resource_type]
        found = matches(state, pattern)
        if not found:
            prep.missing.append(
                Missing(variable, f"no resource in the state matches {pattern.text}")
            )
        for key, resource in found:
            slot = _slot(variable, pattern, key)
            image_id = resource.attributes.get(attribute)
            if not image_id:
                prep.missing.append(Missing(str(slot), f"{resource.address} has no {attribute}"))
            else:
                wanted.append((slot, resource, image_id))
    try:
        lookup.remember(i for _, _, i in wanted if not state.image_facts(i))
    except (ClientError, BotoCoreError) as exc:
        # Without the records, copies and the state's own lookups still answer.
        log.warn(f"cannot read the backup records of images in {prep.target_region}: {_code(exc)}")
    for slot, resource, image_id in wanted:
        try:
            choice = images.resolve(lookup, slot, resource.address, image_id)
        except (ClientError, BotoCoreError) as exc:
            choice = Missing(
                str(slot), f"cannot look images up in {prep.target_region}: {_code(exc)}"
            )
        if isinstance(choice, Missing):
            prep.missing.append(choice)
        else:
            prep.images.append(choice)


def _zones(request: Request, clients: DrClients, state: StackState, prep: Preparation) -> None:
    ec2: EC2Client = clients.ec2(request.target_region, request.account)
    try:
        target = zones.available(ec2)
    except (ClientError, BotoCoreError) as exc:
        prep.missing.append(
            Missing("zones", f"cannot list {prep.target_region}'s zones: {_code(exc)}")
        )
        return
    source = state.zones(request.env.region)
    chosen, pairs, problem = zones.by_index(source, target, request.recovery.zones)
    prep.target_zones, prep.zones = chosen, pairs
    if problem is not None:
        prep.missing.append(problem)


def _literals(request: Request, prep: Preparation) -> None:
    """The stack's regional literals; the DR variable files must exist."""
    cfg, env, recovery = request.cfg, request.env, request.recovery
    stack = cfg.stack(recovery.stack)
    prep.var_files = recovery.dr_var_files(request.target_region)
    dr_files = tuple(stack.dir / name for name in prep.var_files)
    for name, path in zip(prep.var_files, dr_files, strict=True):
        if not path.is_file():
            prep.missing.append(
                Missing(
                    f"var file {name}",
                    f"[dr.stacks.{stack.name}] var_files names {stack.rel_dir}/{name}, which "
                    "does not exist",
                    f"the values it would set for {request.target_region} are not set",
                )
            )
    try:
        code_dirs = tuple(p for p in local_closure(stack.dir) if p.is_dir())
    except InputError:
        code_dirs = (stack.dir.resolve(),)  # dr plan reports the configuration error itself
    sources = literals.Sources(
        root=cfg.root,
        code_dirs=code_dirs,  # the stack's own folder first
        var_files=tuple(stack.dir / f for f in stack.var_files.get(env.name, ())),
        dr_var_files=dr_files,
    )
    prep.literals = literals.scan(sources, env.region, set(prep.variables), "dr.auto.tfvars.json")
    for lit in prep.literals:
        if lit.mapped_by is None:
            prep.missing.append(
                Missing(
                    lit.where,
                    f"regional literal {lit.describe()} names {env.region}",
                    f"the rebuild uses the {env.region} value in {request.target_region}",
                )
            )


def variables(recovery: StackRecovery, prep: Preparation, declared: set[str]) -> dict[str, Any]:
    """The tfvars: only variables the stack declares; map variables always set, even empty.

    A map variable left out would keep the environment's own value, which names
    snapshots and images of the other region; an empty map is what is meant.
    A plain variable with nothing found is null: the stack's default.
    """
    out: dict[str, Any] = {}
    if recovery.region_variable:
        out[recovery.region_variable] = prep.target_region
    if recovery.zones_variable and not any(m.what == "zones" for m in prep.missing):
        out[recovery.zones_variable] = list(prep.target_zones)
    if recovery.kms_key_variable and prep.kms_key:
        out[recovery.kms_key_variable] = prep.kms_key
    values = [(r.slot, r.snapshot_id) for r in prep.restores]
    values += [(i.slot, i.target_image) for i in prep.images]
    for variable, pattern in (*recovery.snapshots.items(), *recovery.images.items()):
        mine = [(slot, value) for slot, value in values if slot.variable == variable]
        if pattern.keyed:
            out[variable] = {str(slot.key): value for slot, value in sorted(mine, key=_by_key)}
        else:
            out[variable] = mine[0][1] if mine else None
    return {k: v for k, v in out.items() if k in declared}


def _by_key(pair: tuple[Slot, str]) -> str:
    return pair[0].key or ""


def _code(exc: ClientError | BotoCoreError) -> str:
    return error_code(exc) if isinstance(exc, ClientError) else type(exc).__name__
