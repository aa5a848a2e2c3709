"""The pure rules of disaster recovery: address patterns, zones by index, the newest copy, config."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runners import config
from runners.backup import tags as T
from runners.backup.model import Place, Snapshot
from runners.dr import literals, snapshots, statefile, stateful, zones
from runners.dr.addresses import instance_address, parse_pattern
from runners.errors import ConfigError

# -- address patterns ------------------------------------------------------------------------

keys = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=20,
)


@given(key=keys)
def test_a_keyed_pattern_gives_back_the_for_each_key(key: str) -> None:
    pattern = parse_pattern('module.server["*"].aws_ebs_volume.data[0]')
    address = instance_address(
        f"module.server[{json.dumps(key)}]", "managed", "aws_ebs_volume", "data", 0
    )
    assert pattern.match(address) == key


@given(index=st.integers(min_value=0, max_value=10_000))
def test_an_index_pattern_gives_back_the_count_index(index: int) -> None:
    pattern = parse_pattern("module.db.aws_db_instance.replica[*]")
    assert pattern.match(f"module.db.aws_db_instance.replica[{index}]") == str(index)


@pytest.mark.parametrize(
    "address",
    [
        'module.server["web-1"].aws_ebs_volume.root[0]',
        'module.server["web-1"].aws_ebs_volume.data[1]',
        'module.other["web-1"].aws_ebs_volume.data[0]',
        'module.outer.module.server["web-1"].aws_ebs_volume.data[0]',
        'module.server["web-1"].data.aws_ebs_volume.data[0]',
    ],
)
def test_a_pattern_matches_nothing_else(address: str) -> None:
    assert parse_pattern('module.server["*"].aws_ebs_volume.data[0]').match(address) is None


def test_a_plain_pattern_matches_its_one_resource() -> None:
    pattern = parse_pattern("module.database.aws_db_instance.this")
    assert not pattern.keyed
    assert pattern.match("module.database.aws_db_instance.this") == ""
    assert pattern.match("module.database.aws_db_instance.this[0]") is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("aws_ebs_volume", "is not a resource address"),
        ("data.aws_ami.debian", "is a data source"),
        ('module.a["*"].aws_ebs_volume.data["*"]', "more than one *"),
    ],
)
def test_bad_patterns_say_why(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_pattern(text)


# -- zones -----------------------------------------------------------------------------------


@given(
    source=st.integers(min_value=0, max_value=6),
    target=st.integers(min_value=0, max_value=6),
    wanted=st.one_of(st.none(), st.integers(min_value=1, max_value=6)),
)
def test_zones_map_by_index_or_say_what_is_short(
    source: int, target: int, wanted: int | None
) -> None:
    src = [f"eu-west-1{c}" for c in "abcdef"[:source]]
    dst = [f"eu-central-1{c}" for c in "abcdef"[:target]]
    chosen, pairs, missing = zones.by_index(src, dst, wanted)
    count = wanted or source or target
    assert chosen == dst[:count]
    assert all(src.index(s) == dst.index(d) for s, d in pairs)
    assert (missing is not None) == (target < count)


# -- the newest complete shipped point -------------------------------------------------------

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
HERE = Place(None, "eu-central-1")


def snap(
    n: int,
    hours_ago: int,
    state: str = "completed",
    source: str = "vol-1",
    copy: bool = True,
    place: Place = HERE,
    managed: bool = True,
    period: str | None = None,
) -> Snapshot:
    taken = NOW - timedelta(hours=hours_ago)
    tags = {
        T.SOURCE_ID: source,
        T.KIND: "ebs-volume",
        T.TAKEN_AT: T.format_time(taken),
        T.PERIOD: period or f"{taken:%Y-%m-%dT%H}",
        T.RETENTION_CLASS: T.SCHEDULED,
    }
    if managed:
        tags[T.MANAGED_BY] = T.MANAGED_BY_VALUE
    if copy:
        tags[T.COPY_OF] = f"snap-src{n}"
    return Snapshot(f"snap-{n:04d}", "ebs-volume", place, state, taken, tags)  # type: ignore[arg-type]


states = st.sampled_from(["completed", "pending", "error"])


@settings(max_examples=300)
@given(st.lists(st.tuples(st.integers(0, 200), states, st.booleans(), st.booleans()), max_size=12))
def test_the_newest_complete_copy_is_chosen(items: list[tuple[int, str, bool, bool]]) -> None:
    found = [
        snap(i, hours, state, copy=copy, managed=managed)
        for i, (hours, state, copy, managed) in enumerate(items)
    ]
    chosen = snapshots.newest_points(found, HERE.region)
    # The oracle: copies made by runners, grouped by when they were taken (one point each);
    # a point counts only when every copy in it is completed.
    points: dict[datetime, list[Snapshot]] = {}
    for s in found:
        if s.copy_of and s.managed:
            points.setdefault(s.taken_at, []).append(s)
    complete = {t: m for t, m in points.items() if all(s.state == "completed" for s in m)}
    if not complete:
        assert chosen == {}
        return
    (point,) = chosen.values()
    newest = max(complete)
    assert sorted(s.id for s in point) == sorted(s.id for s in complete[newest])


def test_a_point_with_a_pending_member_is_passed_over() -> None:
    # An instance's two volumes were copied; one copy of the newest point is still pending.
    new = [snap(1, 1, period="p2"), snap(2, 1, "pending", period="p2")]
    old = [snap(3, 25, period="p1"), snap(4, 25, period="p1")]
    (point,) = snapshots.newest_points(new + old, HERE.region).values()
    assert [s.id for s in point] == ["snap-0003", "snap-0004"]


def test_sources_and_other_regions_are_not_restored_from() -> None:
    found = [snap(1, 1, copy=False), snap(2, 1, place=Place(None, "eu-west-1"))]
    assert snapshots.newest_points(found, HERE.region) == {}


# -- the state file ----------------------------------------------------------------------------


def test_only_identifying_attributes_are_kept(tmp_path: Path) -> None:
    location = statefile.StateLocation("local", path=tmp_path / "s")
    doc = {
        "version": 4,
        "resources": [
            {
                "module": 'module.server["a"]',
                "mode": "managed",
                "type": "aws_db_instance",
                "name": "this",
                "instances": [{"attributes": {"identifier": "db", "password": "x" * 12}}],
            }
        ],
    }
    state = statefile.parse(json.dumps(doc).encode(), location)
    (res,) = state.resources
    assert res.address == 'module.server["a"].aws_db_instance.this'
    assert dict(res.attributes) == {"identifier": "db"}


@pytest.mark.parametrize(
    ("data", "problem"), [(b"{", "not JSON"), (b'{"version": 3}', "format version 3")]
)
def test_a_state_that_is_not_one_is_refused(tmp_path: Path, data: bytes, problem: str) -> None:
    with pytest.raises(statefile.StateUnreadable, match=problem):
        statefile.parse(data, statefile.StateLocation("local", path=tmp_path / "s"))


# -- the [dr] table ----------------------------------------------------------------------------

BASE = """\
[environments.production]
branch = "production"
region = "eu-west-1"

[stacks.client]
dir = "stacks/client"

"""


@pytest.mark.parametrize(
    ("dr", "key", "problem"),
    [
        ("[dr.stacks.nope]\n", "dr.stacks.nope", "no stack 'nope'"),
        (
            "[dr.stacks.client.snapshots]\nsnapshot_ids = 'module.server[\"*\"].aws_instance.this'\n",
            "dr.stacks.client.snapshots.snapshot_ids",
            "must be a resource of type aws_db_instance, aws_ebs_volume, aws_rds_cluster",
        ),
        (
            "[dr.stacks.client.images]\nami_ids = 'nonsense'\n",
            "dr.stacks.client.images.ami_ids",
            "is not a resource address",
        ),
        (
            "[dr.stacks.client]\nregion_variable = 'x'\n[dr.stacks.client.snapshots]\n"
            "x = 'module.db.aws_db_instance.this'\n",
            "dr.stacks.client.x",
            "is set twice",
        ),
        (
            "[dr.verify]\ndb_instance_class = 'm5.large'\n",
            "dr.verify.db_instance_class",
            "db.t3.micro",
        ),
        ("[dr.s3.daily]\ndestination_bucket = 'b-backup'\n", "dr.s3.daily.buckets", "is required"),
        ("[dr]\npolcy = 'daily'\n", "dr.polcy", "did you mean 'policy'"),
        (
            "[dr.stacks.client]\nvar_files = ['../production.tfvars']\n",
            "dr.stacks.client.var_files",
            "expected files in the stack's folder",
        ),
        (
            "[dr.stacks.client]\nstart_empty = 'module.x'\n",
            "dr.stacks.client.start_empty",
            "expected a list of non-empty strings",
        ),
        (
            "[dr.stacks.client.drill]\nvariables = { deletion_protection = [1] }\n",
            "dr.stacks.client.drill.variables.deletion_protection",
            "expected a string, integer or boolean",
        ),
        (
            "[dr.stacks.client.drill]\nsmoke_timeout_minutes = 0\n",
            "dr.stacks.client.drill.smoke_timeout_minutes",
            "0.1",
        ),
    ],
)
def test_a_bad_dr_table_names_its_key(tmp_path: Path, dr: str, key: str, problem: str) -> None:
    path = tmp_path / "runners.toml"
    path.write_text(BASE + dr)
    with pytest.raises(ConfigError) as err:
        config.load(path)
    assert err.value.key == key
    assert problem in str(err.value)


# -- regional literals -------------------------------------------------------------------------

REGION = "eu-west-1"
plain_text = st.text(alphabet='abcdefghijklmnopqrstuvwxyz _="{}[],.:/0123456789', max_size=60)


@given(before=plain_text, after=plain_text)
def test_an_arn_in_the_region_is_found_once_whatever_surrounds_it(before: str, after: str) -> None:
    arn = f"arn:aws:acm:{REGION}:123456789012:certificate/0a1b-22"
    found = literals.find(f'{before} "{arn}" {after}', REGION)
    assert found.count(arn) == 1
    assert REGION not in [f for f in found if f != arn]  # the region inside it is the ARN's


@given(text=plain_text)
def test_text_without_region_or_ids_has_no_literal(text: str) -> None:
    assert not any(REGION in f for f in literals.find(text, REGION))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('zones = ["eu-west-1a", "eu-west-1b"]', ["eu-west-1a", "eu-west-1b"]),
        ('region = "eu-west-10"', []),
        ('other = "arn:aws:acm:eu-central-1:1:certificate/x"', []),
        ('subnet = "subnet-0123abcd"', ["subnet-0123abcd"]),
        ('ami = "ami-0123456789abcdef0"', ["ami-0123456789abcdef0"]),
        ('name = "ami-lookup"', []),
    ],
)
def test_what_counts_as_a_regional_literal(line: str, expected: list[str]) -> None:
    assert literals.find(line, REGION) == expected


def test_comments_and_documentation_are_not_scanned() -> None:
    text = (
        'variable "region" {\n'
        '  description = "such as eu-west-1"\n'
        '  default     = "eu-west-1" # eu-west-1 again in a comment\n'
        "}\n"
        "/* eu-west-1\n"
        "   eu-west-1 */\n"
        'locals { url = "https://x/#eu-west-1" } // eu-west-1\n'
    )
    found = literals.scan_hcl(text, REGION, code=True)
    assert found == [(3, "eu-west-1", "region"), (7, "eu-west-1", None)]


def test_a_var_file_literal_belongs_to_the_variable_it_sets() -> None:
    text = 'api = {\n  certificate_arn = "arn:aws:acm:eu-west-1:1:certificate/a"\n}\nx = 1\n'
    (found,) = literals.scan_hcl(text, REGION, code=False)
    assert found == (2, "arn:aws:acm:eu-west-1:1:certificate/a", "api")
    json_text = (
        '{\n  "api": {\n    "certificate_arn": "arn:aws:acm:eu-west-1:1:certificate/a"\n  }\n}'
    )
    assert literals.scan_json(json_text, REGION) == [
        (3, "arn:aws:acm:eu-west-1:1:certificate/a", "api")
    ]


# -- what starts empty -------------------------------------------------------------------------


def _state(*resources: tuple[str, str, dict[str, str]]) -> statefile.StackState:
    return statefile.StackState(
        statefile.StateLocation("local"),
        1,
        tuple(
            statefile.StateResource(address, "managed", rtype, attrs)
            for address, rtype, attrs in resources
        ),
    )


def test_start_empty_globs_treat_brackets_and_quotes_as_text() -> None:
    assert stateful.accepted_by('module.q.aws_sqs_queue.this["orders"]', ['module.q.*["orders"]'])
    assert not stateful.accepted_by('module.q.aws_sqs_queue.this["orders"]', ["module.q.*[o]"])


@given(
    covered=st.sets(st.sampled_from(["a", "b", "c", "d"])),
    accepted=st.sets(st.sampled_from(["a", "b", "c", "d"])),
)
def test_every_stateful_resource_is_restored_listed_or_accepted(
    covered: set[str], accepted: set[str]
) -> None:
    names = {
        "a": "aws_ebs_volume",
        "b": "aws_efs_file_system",
        "c": "aws_sqs_queue",
        "d": "aws_vpc",
    }
    state = _state(*[(f"module.x.{t}.{n}", t, {"id": n}) for n, t in names.items()])
    addresses = {n: f"module.x.{t}.{n}" for n, t in names.items()}
    listed = stateful.unrestored(
        state, {addresses[n] for n in covered}, [addresses[n] for n in accepted]
    )
    by_address = {u.address: u for u in listed}
    for name, address in addresses.items():
        if name == "d" or name in covered:  # a VPC holds no data; covered ones are mapped
            assert address not in by_address
        else:
            assert by_address[address].accepted == (name in accepted)
