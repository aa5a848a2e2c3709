"""AWS as it behaves, on loopback: a proxy between boto3 (or Terraform) and the embedded AWS.

Moto completes every snapshot at once, throttles nothing, never loses an
answer and never refuses for a quota. This layer sits between the client and
the moto server, at the HTTP level, so botocore's real retries meet what it
does. Each behaviour is one rule in ``RULES``, checked in order on every
request; the first that answers wins, otherwise the request goes to moto and
the response rules (pending states, lost responses) apply to the answer.

The service, region and account of a request come from its SigV4 credential
scope and access key, as AWS reads them. Rates and durations are AWS's,
time-scaled by one factor (``speedup``): with ``speedup=60`` a 5-tokens-a-second
bucket refills 300 a second and a 10-minute copy takes 10 seconds.

Sources (the tests cite them again beside each behaviour):

- EC2 token buckets: "Request throttling for the Amazon EC2 API" (EC2 Developer
  Guide): per-API buckets; non-mutating 100 tokens / 20 a second, unfiltered and
  unpaginated non-mutating 50 / 10, mutating 50 / 5; error ``RequestLimitExceeded``.
- RDS: "Request throttling for the Amazon RDS API" (RDS User Guide): 300
  requests in a burst, 12 a second sustained, per account and region; error
  ``Throttling``, "Rate exceeded".
- EBS quotas ("Amazon EBS endpoints and quotas", AWS General Reference): 5
  pending snapshots per gp2, gp3, io1 or io2 volume and 1 per st1 or sc1 volume
  (``ConcurrentSnapshotLimitExceeded``); 20 concurrent snapshot copies per
  destination region (``ResourceLimitExceeded``).
- RDS quotas ("Quotas and constraints for Amazon RDS"): 100 manual DB instance
  snapshots and 100 manual DB cluster snapshots per region
  (``SnapshotQuotaExceeded``).
- A pending snapshot cannot be copied: EC2 answers ``IncorrectState`` "Snapshot
  is in invalid state - pending"; RDS ``InvalidDBSnapshotState`` (the
  CopyDBSnapshot API reference's errors).
"""

from __future__ import annotations

import contextlib
import http.client
import random
import re
import socket
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}
)
EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
RDS_NS = "http://rds.amazonaws.com/doc/2014-10-31/"
ET.register_namespace("", EC2_NS)

# Documented token buckets: (capacity, refill per second).
EC2_NON_MUTATING = (100.0, 20.0)
EC2_UNFILTERED = (50.0, 10.0)
EC2_MUTATING = (50.0, 5.0)
RDS_ACCOUNT = (300.0, 12.0)
# The describe calls EC2 puts in the smaller bucket when sent without filter or pagination.
_UNFILTERED_ACTIONS = frozenset(
    {"DescribeInstances", "DescribeInstanceStatus", "DescribeVolumes", "DescribeSnapshots"}
)
PENDING_PER_VOLUME = {"st1": 1, "sc1": 1}  # every other type (gp2, gp3, io1, io2): 5
PENDING_PER_VOLUME_DEFAULT = 5
COPIES_PER_REGION = 20
MANUAL_SNAPSHOTS = 100

# What makes a snapshot, and where its id is in the answer.
_EC2_MAKERS = frozenset({"CreateSnapshot", "CreateSnapshots", "CopySnapshot"})
_RDS_MAKERS = {
    "CreateDBSnapshot": "DBSnapshot",
    "CopyDBSnapshot": "DBSnapshot",
    "CreateDBClusterSnapshot": "DBClusterSnapshot",
    "CopyDBClusterSnapshot": "DBClusterSnapshot",
}
_RDS_ID = {"DBSnapshot": "DBSnapshotIdentifier", "DBClusterSnapshot": "DBClusterSnapshotIdentifier"}


@dataclass(frozen=True)
class Call:
    """One request as the layer reads it."""

    service: str  # ec2, rds, kms, s3... from the SigV4 scope
    region: str
    access_key: str  # moto's account follows the key, so quotas are counted per key
    action: str  # the query API's Action; "" for REST and JSON protocols
    params: Mapping[str, str]
    method: str = ""  # the HTTP method and path, for the REST protocols (S3)
    path: str = ""
    host: str = ""


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Pending:
    region: str
    id: str
    kind: str  # "snapshot" or "copy"
    service: str  # ec2 or rds
    access_key: str
    started: float
    seconds: float  # wall seconds until completed
    volume: str = ""

    def progress(self, now: float) -> float:
        return 1.0 if self.seconds <= 0 else min(1.0, (now - self.started) / self.seconds)


@dataclass
class Injected:
    """A test's fault: answer ``action`` with ``code`` (``times`` times, or always)."""

    action: str
    code: str
    message: str
    times: int | None
    match: Callable[[Mapping[str, str]], bool]
    region: str | None = None
    before: Callable[[Mapping[str, str]], None] | None = None  # runs, then the call goes on


@dataclass
class Settings:
    speedup: float = 1.0  # AWS seconds per wall second
    buckets: bool = False  # enforce the documented token buckets
    snapshot_seconds: float = 0.0  # how long a new snapshot stays pending (AWS seconds)
    copy_seconds: float = 0.0  # how long a copy stays pending (AWS seconds)
    lose: float = 0.0  # share of snapshot-making calls performed whose answer is lost
    throttle: float = 0.0  # share of calls throttled on top of the buckets
    manual_snapshot_quota: int = MANUAL_SNAPSHOTS
    copies_per_region: int = COPIES_PER_REGION
    seed: int = 0


class Behaviour:
    """The rules, their state and the proxy; ``start()`` serves it on 127.0.0.1."""

    def __init__(self, upstream: str, settings: Settings | None = None) -> None:
        self.upstream = urllib.parse.urlsplit(upstream)
        self.settings = settings or Settings()
        self.down: set[str] = set()
        self.foreign_buckets: set[str] = set()  # bucket names another account owns
        self.injected: list[Injected] = []
        self.pending: dict[tuple[str, str], Pending] = {}
        self.errored: set[tuple[str, str]] = set()  # (region, id) that end in error
        self.lose_next: dict[str, int] = {}  # action -> answers still to lose
        self.counts: dict[str, int] = {}  # what the layer did, by rule name
        self.calls: list[Call] = []
        self.volume_types: dict[tuple[str, str], str] = {}
        self.doomed: list[str] = []  # copies being made that will end in error
        self.raised: list[str] = []  # the error codes the rules answered with
        self.tokens: dict[tuple[str, str, str, str], Answer] = {}  # EC2 ClientToken answers
        self._index: dict[tuple[str, str, str, str, str], set[tuple[str, str]]] = {}
        self._buckets: dict[tuple[str, ...], list[float]] = {}
        self._random = random.Random(self.settings.seed)  # noqa: S311  # fault choice, not crypto
        self._lock = threading.RLock()
        self._local = threading.local()
        self._server: ThreadingHTTPServer | None = None

    def reset(self, settings: Settings | None = None) -> None:
        """Forget every rule's state and start again with ``settings`` (moto is not touched)."""
        with self._lock:
            self.settings = settings or Settings()
            self.down.clear()
            self.foreign_buckets.clear()
            self.injected.clear()
            self.pending.clear()
            self.errored.clear()
            self.lose_next.clear()
            self.counts.clear()
            self.calls.clear()
            self.volume_types.clear()
            self.doomed.clear()
            self.raised.clear()
            self.tokens.clear()
            self._index.clear()
            self._buckets.clear()
            self._random = random.Random(self.settings.seed)  # noqa: S311

    # -- switches a test or the demo turns ---------------------------------------------------
    def region_down(self, region: str) -> None:
        """Refuse every request signed for ``region``, as if it were unreachable."""
        self.down.add(region)

    def region_up(self, region: str) -> None:
        self.down.discard(region)

    @contextlib.contextmanager
    def outage(self, region: str) -> Iterator[None]:
        self.region_down(region)
        try:
            yield
        finally:
            self.region_up(region)

    def owned_elsewhere(self, bucket: str) -> None:
        """``bucket`` belongs to another AWS account: S3 names are global, moto has one account."""
        self.foreign_buckets.add(bucket)

    def fail(
        self,
        action: str,
        code: str,
        *,
        times: int | None = None,
        match: Callable[[Mapping[str, str]], bool] = lambda _: True,
        message: str = "injected by the behaviour layer",
        region: str | None = None,
    ) -> None:
        self.injected.append(Injected(action, code, message, times, match, region))

    def before(self, action: str, hook: Callable[[Mapping[str, str]], None]) -> None:
        """Run ``hook`` with the request's parameters just before moto performs it."""
        self.injected.append(Injected(action, "", "", None, lambda _: True, None, hook))

    def lose(self, action: str, times: int = 1) -> None:
        """Perform the next ``times`` ``action`` requests and drop their answers."""
        self.lose_next[action] = self.lose_next.get(action, 0) + times

    def complete(self, *ids: str) -> None:
        """End the pending state of ``ids`` (all when none given) now."""
        with self._lock:
            for key in list(self.pending):
                if not ids or key[1] in ids:
                    del self.pending[key]

    def fail_later(self, region: str, snapshot_id: str) -> None:
        """The snapshot ends in state error (EBS reports a failed copy that way)."""
        self.errored.add((region, snapshot_id))

    def count(self, rule: str) -> int:
        return self.counts.get(rule, 0)

    # -- the proxy -------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("the behaviour layer is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Behaviour:
        layer = self

        class Handler(_Handler):
            behaviour = layer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def environ(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint}

    def now(self) -> float:
        return time.monotonic()

    def _bump(self, rule: str) -> None:
        with self._lock:
            self.counts[rule] = self.counts.get(rule, 0) + 1

    # -- answering one request ---------------------------------------------------------------
    def handle(self, call: Call, send: Callable[[], Answer]) -> Answer | None:
        """The answer to give; None means drop the connection with no answer."""
        with self._lock:
            self.calls.append(call)
        for name, rule in RULES:
            answer = rule(self, call)
            if answer is not None:
                self._bump(name)
                if answer is not DROP and answer.status >= 300:
                    with self._lock:
                        self.raised.append(_error_code(answer))
                return None if answer is DROP else answer
        answer = send()
        token = call.params.get("ClientToken")
        if call.service == "ec2" and token and answer.status < 300:
            with self._lock:
                self.tokens[(call.access_key, call.region, call.action, token)] = answer
        made = self._record(call, answer)
        answer = self._rewrite(call, answer)
        if self._loses(call, made):
            self._bump("lost response")
            return None
        return answer

    def _loses(self, call: Call, made: bool) -> bool:
        """A lost answer: asked for by a test, or by chance on a call that made a snapshot."""
        with self._lock:
            left = self.lose_next.get(call.action, 0)
            if left:
                self.lose_next[call.action] = left - 1
                return True
            return made and self.settings.lose > 0 and self._random.random() < self.settings.lose

    def ask(self, call: Call, params: dict[str, str]) -> ET.Element:
        """A query of the layer's own to moto, as the caller's account, outside the rules."""
        version = "2016-11-15" if call.service == "ec2" else "2014-10-31"
        body = urllib.parse.urlencode({**params, "Version": version}).encode()
        scope = f"Credential={call.access_key}/20260101/{call.region}/{call.service}/aws4_request"
        headers = {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Authorization": f"AWS4-HMAC-SHA256 {scope}, SignedHeaders=host, Signature=0",
        }
        answer = self.forward("POST", "/", headers, body)
        return ET.fromstring(answer.body)  # noqa: S314  # moto's own answer on loopback

    def forward(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        conn = getattr(self._local, "conn", None)
        for attempt in range(2):
            if conn is None:
                conn = http.client.HTTPConnection(
                    self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=300
                )
                self._local.conn = conn
            try:
                conn.request(method, path, body=body, headers=dict(headers))
                resp = conn.getresponse()
                data = resp.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = self._local.conn = None
                if attempt:
                    raise
                continue
            kept = {k: v for k, v in resp.getheaders() if k.lower() not in _HOP}
            kept.pop("Content-Length", None)
            return Answer(resp.status, data, kept)
        raise AssertionError("unreachable")

    # -- pending states ------------------------------------------------------------------------
    def _record(self, call: Call, answer: Answer) -> bool:
        """Snapshots an answer made start pending; True when the call made any."""
        if answer.status >= 300 or not answer.body:
            return False
        made: list[tuple[str, str]] = []
        if call.service == "ec2" and call.action in _EC2_MAKERS:
            root = ET.fromstring(answer.body)  # noqa: S314
            if call.action == "CreateSnapshots":
                for item in _all(root, "snapshotSet/item"):
                    made.append((_text(item, "snapshotId"), _text(item, "volumeId")))
            else:
                made.append((_text(root, "snapshotId"), call.params.get("VolumeId", "")))
        elif call.service == "rds" and call.action in _RDS_MAKERS:
            root = ET.fromstring(answer.body)  # noqa: S314
            shape = _RDS_MAKERS[call.action]
            for node in _all(root, f"*/{shape}"):
                made.append((_text(node, _RDS_ID[shape]), ""))
        if not made:
            return False
        copy = call.action.startswith("Copy")
        with self._lock:
            if call.action == "CopySnapshot" and call.region in self.doomed:
                self.doomed.remove(call.region)
                self.errored |= {(call.region, snap_id) for snap_id, _ in made}
        seconds = (self.settings.copy_seconds if copy else self.settings.snapshot_seconds) / max(
            self.settings.speedup, 1e-9
        )
        with self._lock:
            for snap_id, volume in made:
                if snap_id and seconds > 0:
                    rec = Pending(
                        call.region,
                        snap_id,
                        "copy" if copy else "snapshot",
                        call.service,
                        call.access_key,
                        self.now(),
                        seconds,
                        volume,
                    )
                    self.pending[(call.region, snap_id)] = rec
                    self._indexed(rec)
        return True

    def live(self, region: str, snap_id: str) -> Pending | None:
        """The pending record of a snapshot still pending now; expired ones are dropped."""
        with self._lock:
            rec = self.pending.get((region, snap_id))
            if rec is not None and rec.progress(self.now()) >= 1.0:
                del self.pending[(region, snap_id)]
                return None
            return rec

    def _rewrite(self, call: Call, answer: Answer) -> Answer:
        """Describe answers show the layer's pending and error states, with progress."""
        if answer.status >= 300 or call.service not in ("ec2", "rds") or not answer.body:
            return answer
        watched = call.action in (
            "DescribeSnapshots",
            "DescribeDBSnapshots",
            "DescribeDBClusterSnapshots",
        ) or (call.action in _EC2_MAKERS or call.action in _RDS_MAKERS)
        if not watched or (not self.pending and not self.errored):
            return answer
        root = ET.fromstring(answer.body)  # noqa: S314
        changed = False
        if call.service == "ec2":
            items = [root] if call.action in ("CreateSnapshot",) else []
            items += _all(root, "snapshotSet/item")
            for item in items:
                changed |= self._ec2_state(call.region, item)
            if call.action == "DescribeSnapshots":
                changed |= _filter_status(root, call.params)
        else:
            for shape, id_field in _RDS_ID.items():
                for node in [*_all(root, f"*/{shape}"), *_all(root, f"*/{shape}s/{shape}")]:
                    changed |= self._rds_state(call.region, node, id_field)
        if not changed:
            return answer
        return Answer(answer.status, ET.tostring(root, encoding="utf-8"), answer.headers)

    def _ec2_state(self, region: str, item: ET.Element) -> bool:
        snap_id = _text(item, "snapshotId")
        if (region, snap_id) in self.errored:
            return _set(item, "status", "error")
        rec = self.live(region, snap_id)
        if rec is None:
            return False
        _set(item, "status", "pending")
        return _set(item, "progress", f"{int(rec.progress(self.now()) * 100)}%")

    def _rds_state(self, region: str, node: ET.Element, id_field: str) -> bool:
        snap_id = _text(node, id_field)
        if (region, snap_id) in self.errored:
            return _set(node, "Status", "failed")
        rec = self.live(region, snap_id)
        if rec is None:
            return False
        _set(node, "Status", "creating")
        return _set(node, "PercentProgress", str(int(rec.progress(self.now()) * 100)))

    # -- counts the quota rules need -----------------------------------------------------------
    def pending_of(
        self, service: str, region: str, kind: str, access_key: str, volume: str = ""
    ) -> int:
        """Pending snapshots (of ``volume``) or copies of one service in ``region``."""
        now = self.now()
        with self._lock:
            keys = self._index.get((service, region, kind, access_key, volume), set())
            for key in [k for k in keys if k not in self.pending]:
                keys.discard(key)
            return sum(1 for k in keys if self.pending[k].progress(now) < 1.0)

    def _indexed(self, rec: Pending) -> None:
        for volume in {"", rec.volume}:
            key = (rec.service, rec.region, rec.kind, rec.access_key, volume)
            self._index.setdefault(key, set()).add((rec.region, rec.id))

    def take_token(self, key: tuple[str, ...], capacity: float, rate: float) -> bool:
        with self._lock:
            now = self.now()
            tokens, last = self._buckets.get(key, [capacity, now])
            tokens = min(capacity, tokens + (now - last) * rate * self.settings.speedup)
            ok = tokens >= 1.0
            self._buckets[key] = [tokens - 1.0 if ok else tokens, now]
            return ok


DROP = Answer(0, b"")  # a rule's way of saying: no answer at all


# -- error bodies as AWS sends them ------------------------------------------------------------
def error(call: Call, code: str, message: str, status: int = 400) -> Answer:
    request_id = str(uuid.uuid4())
    if call.service == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            f"<Code>{code}</Code><Message>{_escape(message)}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
    else:
        body = (
            f'<ErrorResponse xmlns="{RDS_NS}"><Error><Type>Sender</Type><Code>{code}</Code>'
            f"<Message>{_escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    return Answer(status, body.encode(), {"Content-Type": "text/xml;charset=UTF-8"})


def _error_code(answer: Answer) -> str:
    found = re.search(rb"<Code>([^<]+)</Code>", answer.body)
    return found.group(1).decode() if found else ""


def throttled(call: Call) -> Answer:
    if call.service == "ec2":
        return error(call, "RequestLimitExceeded", "Request limit exceeded.", 503)
    return error(call, "Throttling", "Rate exceeded", 400)


# -- the rules, in the order they are checked ------------------------------------------------
def _region_down(b: Behaviour, call: Call) -> Answer | None:
    """A region that is down answers nothing: the connection closes, nothing is performed."""
    return DROP if call.region in b.down else None


def _foreign_bucket(b: Behaviour, call: Call) -> Answer | None:
    """A bucket another account owns: creating it is ``BucketAlreadyExists`` (409), anything
    else is 403 (S3's answer to a bucket the caller has no access to, HEAD without a body).
    Sources: the CreateBucket API reference's errors; "HeadBucket", which answers 403 for a
    bucket the caller may not access and 404 for none."""
    if call.service != "s3" or not b.foreign_buckets:
        return None
    bucket = s3_bucket(call)
    if bucket not in b.foreign_buckets:
        return None
    query = urllib.parse.urlsplit(call.path).query
    if (
        call.method == "PUT"
        and urllib.parse.urlsplit(call.path).path.strip("/") == bucket
        and not query
    ):
        return s3_error(
            "BucketAlreadyExists",
            "The requested bucket name is not available. The bucket namespace is shared by "
            "all users of the system. Please select a different name and try again.",
            409,
            bucket,
        )
    if call.method == "HEAD":
        return Answer(403, b"", {})
    return s3_error("AccessDenied", "Access Denied", 403, bucket)


def s3_bucket(call: Call) -> str:
    """The bucket a REST S3 request names: the host's first label (virtual-hosted style), else
    the path's first part (path style, as the embedded AWS is reached)."""
    host = call.host.split(":")[0]
    if host.count(".") >= 3 and ".s3." in f".{host}":
        return host.split(".s3.", 1)[0]
    return urllib.parse.unquote(urllib.parse.urlsplit(call.path).path.lstrip("/").split("/", 1)[0])


def s3_error(code: str, message: str, status: int, bucket: str) -> Answer:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>'
        f"<Code>{code}</Code><Message>{_escape(message)}</Message>"
        f"<BucketName>{_escape(bucket)}</BucketName><RequestId>{uuid.uuid4().hex[:16]}</RequestId>"
        "</Error>"
    )
    return Answer(status, body.encode(), {"Content-Type": "application/xml"})


def _injected(b: Behaviour, call: Call) -> Answer | None:
    with b._lock:
        rules = list(b.injected)
    for rule in rules:
        if rule.action != call.action or (rule.region and rule.region != call.region):
            continue
        if not rule.match(call.params):
            continue
        if rule.before is not None:
            rule.before(call.params)
            continue
        with b._lock:
            if rule.times is not None:
                if rule.times <= 0:
                    continue
                rule.times -= 1
        return error(call, rule.code, rule.message)
    return None


def _token_bucket(b: Behaviour, call: Call) -> Answer | None:
    if not b.settings.buckets or not call.action:
        return None
    if call.service == "ec2":
        size = ec2_bucket(call.action, call.params)
        # The unfiltered calls draw on a smaller bucket of their own.
        key: tuple[str, ...] = (call.access_key, call.region, "ec2", call.action, str(size))
    elif call.service == "rds":
        key, size = (call.access_key, call.region, "rds"), RDS_ACCOUNT
    else:
        return None
    return None if b.take_token(key, *size) else throttled(call)


def ec2_bucket(action: str, params: Mapping[str, str]) -> tuple[float, float]:
    """The documented bucket an EC2 action draws on."""
    if action.startswith(("Describe", "List", "Get", "Search")):
        paged = any(k.startswith(("Filter.", "MaxResults", "NextToken")) for k in params)
        if action in _UNFILTERED_ACTIONS and not paged:
            return EC2_UNFILTERED
        return EC2_NON_MUTATING
    return EC2_MUTATING


def _random_throttle(b: Behaviour, call: Call) -> Answer | None:
    if call.service not in ("ec2", "rds") or b.settings.throttle <= 0:
        return None
    with b._lock:
        hit = b._random.random() < b.settings.throttle
    return throttled(call) if hit else None


def _client_token(b: Behaviour, call: Call) -> Answer | None:
    """EC2 answers a repeated ClientToken with the first call's result ("Ensuring
    idempotency in Amazon EC2 API requests"); moto ignores the token."""
    token = call.params.get("ClientToken")
    if call.service != "ec2" or not token:
        return None
    with b._lock:
        return b.tokens.get((call.access_key, call.region, call.action, token))


def _copy_of_pending(b: Behaviour, call: Call) -> Answer | None:
    if call.action == "CopySnapshot":
        source = (call.params.get("SourceRegion", call.region), call.params["SourceSnapshotId"])
        if b.live(*source) is not None:
            return error(call, "IncorrectState", "Snapshot is in invalid state - pending")
    elif call.action in ("CopyDBSnapshot", "CopyDBClusterSnapshot"):
        cluster = call.action == "CopyDBClusterSnapshot"
        ref = call.params.get(
            "SourceDBClusterSnapshotIdentifier" if cluster else "SourceDBSnapshotIdentifier", ""
        )
        region = ref.split(":")[3] if ref.startswith("arn:") else call.region
        if b.live(region, ref.rsplit(":", 1)[-1]) is not None:
            code = "InvalidDBClusterSnapshotStateFault" if cluster else "InvalidDBSnapshotState"
            return error(call, code, f"Snapshot {ref} is not in the available state")
    return None


def _kms_rules(b: Behaviour, call: Call) -> Answer | None:
    """Cross-region copies of encrypted snapshots need a key that lives in the destination.

    RDS refuses at once ("Must specify new KMS key for cross region encrypted snapshot
    copy", and ``KMSKeyNotAccessibleFault`` for a key it cannot use there); EBS accepts
    the call and the copy ends in state error. Keys are judged by their ARN's region.
    """
    key = call.params.get("KmsKeyId", "")
    key_region = key.split(":")[3] if key.startswith("arn:") else call.region
    if call.action == "CopySnapshot":
        if key and key_region != call.region:
            b.doomed.append(call.region)  # the answer's id is marked failed by _record
        return None
    if call.action not in ("CopyDBSnapshot", "CopyDBClusterSnapshot"):
        return None
    cluster = call.action == "CopyDBClusterSnapshot"
    ref = call.params.get(
        "SourceDBClusterSnapshotIdentifier" if cluster else "SourceDBSnapshotIdentifier", ""
    )
    source_region = ref.split(":")[3] if ref.startswith("arn:") else call.region
    shape = "DBClusterSnapshot" if cluster else "DBSnapshot"
    source = Call(call.service, source_region, call.access_key, "", {})
    described = b.ask(
        source,
        {
            "Action": f"Describe{shape}s",
            f"{_RDS_ID[shape]}": ref.rsplit(":", 1)[-1],
        },
    )
    encrypted = _text(
        described, f"*/{shape}s/{shape}/{'StorageEncrypted' if cluster else 'Encrypted'}"
    )
    if encrypted == "true" and source_region != call.region and not key:
        return error(
            call,
            "InvalidParameterValue",
            "Must specify new KMS key for cross region encrypted snapshot copy.",
        )
    if key and encrypted != "true" and cluster:
        return error(call, "InvalidParameterValue", "KmsKeyId given for an unencrypted snapshot")
    if key and key_region != call.region:
        return error(
            call,
            "KMSKeyNotAccessibleFault",
            f"The target KMS key [{key}] does not exist in {call.region}",
        )
    return None


def _pending_per_volume(b: Behaviour, call: Call) -> Answer | None:
    if call.service != "ec2" or call.action not in ("CreateSnapshot", "CreateSnapshots"):
        return None
    if call.action == "CreateSnapshot":
        volumes = [call.params.get("VolumeId", "")]
    else:
        instance = call.params.get("InstanceSpecification.InstanceId", "")
        root = b.ask(call, {"Action": "DescribeInstances", "InstanceId.1": instance})
        volumes = [_text(m, "ebs/volumeId") for m in _all(root, ".//blockDeviceMapping/item")]
    types = volume_types(b, call, volumes)
    for volume in volumes:
        limit = PENDING_PER_VOLUME.get(types.get(volume, ""), PENDING_PER_VOLUME_DEFAULT)
        held = b.pending_of("ec2", call.region, "snapshot", call.access_key, volume)
        if held >= limit:
            return error(
                call,
                "ConcurrentSnapshotLimitExceeded",
                f"Maximum number of pending snapshots ({limit}) reached for volume {volume} "
                f"({types.get(volume, '?')})",
            )
    return None


def volume_types(b: Behaviour, call: Call, volumes: list[str]) -> dict[str, str]:
    """Volume id -> type; a volume's type is asked of moto once (it does not change here)."""
    cache = b.volume_types
    if any(v and (call.access_key, v) not in cache for v in volumes):
        # Every volume of the region at once: a backup asks for hundreds in a row.
        token = ""
        while True:
            params = {"Action": "DescribeVolumes", "MaxResults": "500"}
            if token:
                params["NextToken"] = token
            root = b.ask(call, params)
            for item in _all(root, "volumeSet/item"):
                cache[(call.access_key, _text(item, "volumeId"))] = _text(item, "volumeType")
            token = _text(root, "nextToken")
            if not token:
                break
    return {v: cache.get((call.access_key, v), "") for v in volumes}


def _copies_per_region(b: Behaviour, call: Call) -> Answer | None:
    if call.action != "CopySnapshot":
        return None
    limit = b.settings.copies_per_region
    if b.pending_of("ec2", call.region, "copy", call.access_key) >= limit:
        return error(
            call,
            "ResourceLimitExceeded",
            f"You have exceeded the maximum number of concurrent snapshot copies ({limit}) "
            f"into {call.region}",
        )
    return None


def _manual_snapshot_quota(b: Behaviour, call: Call) -> Answer | None:
    if call.service != "rds" or call.action not in _RDS_MAKERS:
        return None
    shape = _RDS_MAKERS[call.action]
    quota = b.settings.manual_snapshot_quota
    if manual_snapshots(b, call, shape) >= quota:
        return error(
            call,
            "SnapshotQuotaExceeded",
            f"Cannot create more than {quota} manual snapshots",
        )
    return None


def manual_snapshots(b: Behaviour, call: Call, shape: str) -> int:
    action = "DescribeDBSnapshots" if shape == "DBSnapshot" else "DescribeDBClusterSnapshots"
    total, marker = 0, ""
    while True:
        params = {"Action": action, "SnapshotType": "manual", "MaxRecords": "100"}
        if marker:
            params["Marker"] = marker
        root = b.ask(call, params)
        total += len(_all(root, f"*/{shape}s/{shape}"))
        marker = _text(root, "*/Marker")
        if not marker:
            return total


Rule = Callable[[Behaviour, Call], Answer | None]
RULES: tuple[tuple[str, Rule], ...] = (
    ("region down", _region_down),
    ("bucket of another account", _foreign_bucket),
    ("injected", _injected),
    ("token bucket", _token_bucket),
    ("client token", _client_token),
    ("random throttle", _random_throttle),
    ("copy of a pending source", _copy_of_pending),
    ("kms rules", _kms_rules),
    ("pending per volume", _pending_per_volume),
    ("copies per region", _copies_per_region),
    ("manual snapshot quota", _manual_snapshot_quota),
)


# -- HTTP ------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    behaviour: Behaviour
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle's algorithm and the
    # client's delayed ACK hold every answer back some 40 ms.
    disable_nagle_algorithm = True

    def handle(self) -> None:
        with contextlib.suppress(ConnectionError):  # a client that hung up: its business
            super().handle()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the tests and the demo print what matters

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._body()
        call = read_call(
            self.headers.get("Authorization", ""),
            dict(self.headers.items()),
            body,
            method=self.command,
            path=self.path,
        )
        if call.action == "DescribeSnapshots" and _status_filter(call.params):
            # Moto would filter on its own states (all completed): the layer filters instead.
            kept = {k: v for k, v in _without_status(call.params).items()}
            body = urllib.parse.urlencode({"Action": call.action, **kept}).encode()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
        if body or "Content-Length" in self.headers:
            headers["Content-Length"] = str(len(body))
        answer = self.behaviour.handle(
            call, lambda: self.behaviour.forward(self.command, self.path, headers, body)
        )
        if answer is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(answer.status)
        for key, value in answer.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _serve


def read_call(
    authorization: str, headers: Mapping[str, str], body: bytes, method: str = "", path: str = ""
) -> Call:
    scope = _SCOPE.search(authorization)
    key, region, service = scope.groups() if scope else ("", "", "")
    params: dict[str, str] = {}
    content_type = headers.get("Content-Type", "")
    if body and "x-www-form-urlencoded" in content_type:
        params = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
    host = next((v for k, v in headers.items() if k.lower() == "host"), "")
    return Call(service, region, key, params.pop("Action", ""), params, method, path, host)


# -- XML helpers ------------------------------------------------------------------------------
def _strip(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _all(root: ET.Element, path: str) -> list[ET.Element]:
    """Elements at ``path`` (local names, ``*`` and a leading ``.//``), ignoring namespaces."""
    deep = path.startswith(".//")
    parts = path.removeprefix(".//").split("/")
    nodes = [root]
    for index, part in enumerate(parts):
        found: list[ET.Element] = []
        for node in nodes:
            pool = node.iter() if deep and index == 0 else list(node)
            found += [c for c in pool if c is not node and (part == "*" or _strip(c.tag) == part)]
        nodes = found
    return nodes


def _text(root: ET.Element, path: str) -> str:
    found = _all(root, path)
    return (found[0].text or "") if found else ""


def _set(node: ET.Element, name: str, value: str) -> bool:
    for child in node:
        if _strip(child.tag) == name:
            child.text = value
            return True
    ns = node.tag[: node.tag.index("}") + 1] if node.tag.startswith("{") else ""
    ET.SubElement(node, ns + name).text = value
    return True


def _status_filter(params: Mapping[str, str]) -> set[str]:
    wanted: set[str] = set()
    for key, value in params.items():
        if key.startswith("Filter.") and key.endswith(".Name") and value == "status":
            prefix = key.removesuffix("Name")
            wanted |= {v for k, v in params.items() if k.startswith(prefix + "Value.")}
    return wanted


def _without_status(params: Mapping[str, str]) -> dict[str, str]:
    """The parameters less the status filter, the other filters renumbered from 1."""
    filters: dict[str, dict[str, str]] = {}
    rest: dict[str, str] = {}
    for key, value in params.items():
        if key.startswith("Filter."):
            number, _, tail = key.removeprefix("Filter.").partition(".")
            filters.setdefault(number, {})[tail] = value
        else:
            rest[key] = value
    kept = [
        f
        for _, f in sorted(filters.items(), key=lambda kv: int(kv[0]))
        if f.get("Name") != "status"
    ]
    for n, flt in enumerate(kept, 1):
        rest.update({f"Filter.{n}.{tail}": v for tail, v in flt.items()})
    return rest


def _filter_status(root: ET.Element, params: Mapping[str, str]) -> bool:
    """Apply a ``status`` filter to the states the layer shows, not moto's."""
    wanted = _status_filter(params)
    if not wanted:
        return False
    for parent in _all(root, "snapshotSet"):
        for item in list(parent):
            if _text(item, "status") not in wanted:
                parent.remove(item)
    return True


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@contextlib.contextmanager
def in_front_of(upstream: str, settings: Settings | None = None) -> Iterator[Behaviour]:
    layer = Behaviour(upstream, settings).start()
    try:
        yield layer
    finally:
        layer.stop()
