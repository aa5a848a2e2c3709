"""Find the boto3 calls in a module's source, to hold its AWS_OPERATIONS to them.

Static, from the AST, so it sees every branch and needs no AWS. A call counts
when its receiver is known to be a boto3 client of one service:

- a name bound to ``<anything>.client("ec2", ...)``, or that call itself;
- a name bound to a client provider's method named after the service,
  ``<...>clients.ec2(region)`` (the ``Clients`` protocol of the backup
  engines), or that call itself;
- a parameter, variable or attribute annotated with a boto3-stubs client type
  (``from mypy_boto3_ec2 import EC2Client``), including dataclass fields and
  ``self.x`` set in any method of the class.

``get_paginator("describe_snapshots")`` counts as DescribeSnapshots and
``get_waiter("snapshot_completed")`` as the operation botocore's waiter model
polls. In a module that imports boto3, botocore or boto3-stubs, a call whose
receiver is unknown still counts when its method name is a multi-word boto3
operation (``x.describe_volumes()``), so an unannotated client is not missed.
A method handed on uncalled (``ec2.create_snapshot``) counts as a call.
A paginator or waiter named by a variable cannot be checked: the line is a
problem unless it carries ``# aws-ops: dynamic`` because the operations are
declared where the name comes from; there, an operation's snake-case name as a
string literal (a table of operation names) counts as its use.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cache

from botocore import xform_name
from botocore.exceptions import UnknownServiceError

from runners.aws.operations import OperationMap, botocore_session, service_operations

DYNAMIC_MARKER = "aws-ops: dynamic"

# boto3's S3 transfer helpers are client methods that are not API operations.
_S3_TRANSFER: dict[str, frozenset[str]] = {
    "upload_file": frozenset(
        {
            "PutObject",
            "CreateMultipartUpload",
            "UploadPart",
            "CompleteMultipartUpload",
            "AbortMultipartUpload",
        }
    ),
    "download_file": frozenset({"HeadObject", "GetObject"}),
    "copy": frozenset(
        {
            "HeadObject",
            "CopyObject",
            "CreateMultipartUpload",
            "UploadPartCopy",
            "CompleteMultipartUpload",
            "AbortMultipartUpload",
        }
    ),
}
_S3_TRANSFER["upload_fileobj"] = _S3_TRANSFER["upload_file"]
_S3_TRANSFER["download_fileobj"] = _S3_TRANSFER["download_file"]

_AWS_IMPORTS = ("boto3", "botocore", "mypy_boto3_")


@dataclass(frozen=True)
class Call:
    line: int
    service: str | None  # None: the receiver's service is not known statically
    name: str  # as written: method, paginator or waiter name
    via: str  # "call", "paginator", "waiter", "transfer", "presign"
    text: str  # the call as written, for messages


@dataclass
class Scan:
    calls: list[Call] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    aws_aware: bool = False
    # String literals: an operation named in a table ("create_db_snapshot") and
    # dispatched elsewhere with getattr or get_paginator counts as used.
    named: set[str] = field(default_factory=set)


@cache
def _snake_ops(service: str) -> dict[str, str]:
    return {xform_name(op): op for op in service_operations(service)}


@cache
def _waiters(service: str) -> dict[str, str]:
    """snake waiter name -> the operation it polls."""
    session = botocore_session()
    try:
        model = session.get_waiter_model(service)  # type: ignore[attr-defined]
    except (UnknownServiceError, ValueError):
        return {}
    return {
        xform_name(name): model.get_waiter(name).operation  # aws-ops: dynamic (botocore's model)
        for name in model.waiter_names
    }


@cache
def _all_services() -> tuple[str, ...]:
    return tuple(botocore_session().get_available_services())  # type: ignore[attr-defined]


# Services whose operation names identify a call on a receiver of unknown
# type. Reading all of botocore's ~400 models takes seconds; these are the
# ones a hosting team's tooling calls.
FALLBACK_SERVICES = (
    "backup",
    "cloudwatch",
    "dynamodb",
    "ec2",
    "efs",
    "elasticache",
    "elbv2",
    "iam",
    "kms",
    "lambda",
    "logs",
    "rds",
    "route53",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
    "sts",
)


@cache
def _multiword_ops() -> frozenset[str]:
    return frozenset(
        name for service in FALLBACK_SERVICES for name in _snake_ops(service) if "_" in name
    )


def resolve(call: Call, service: str) -> frozenset[str]:
    """The operations ``call`` makes if its receiver is a client of ``service``; empty if none."""
    if call.via == "waiter":
        op = _waiters(service).get(call.name)
        return frozenset({op}) if op else frozenset()
    if call.via == "transfer":
        return _S3_TRANSFER[call.name] if service == "s3" else frozenset()
    op = _snake_ops(service).get(call.name)
    return frozenset({op}) if op else frozenset()


def _stub_service(module: str) -> str | None:
    """``mypy_boto3_ec2`` or ``mypy_boto3_ec2.client`` -> ``ec2``."""
    if not module.startswith("mypy_boto3_"):
        return None
    short = module.removeprefix("mypy_boto3_").split(".")[0]
    for candidate in (short, short.replace("_", "-")):
        if candidate in _all_services():
            return candidate
    return None


def _str_arg(node: ast.Call, keyword: str) -> str | None:
    if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    for kw in node.keywords:
        if (
            kw.arg == keyword
            and isinstance(kw.value, ast.Constant)
            and isinstance(kw.value.value, str)
        ):
            return kw.value.value
    return None


def _is_provider(receiver: ast.expr) -> bool:
    """``clients`` or ``<...>.clients``: an object whose methods return a service's client."""
    if isinstance(receiver, ast.Name):
        return receiver.id == "clients"
    return isinstance(receiver, ast.Attribute) and receiver.attr == "clients"


class _Scanner:
    def __init__(self, tree: ast.Module, lines: list[str]) -> None:
        self.tree = tree
        self.lines = lines
        self.scan = Scan()
        self.stub_types: dict[str, str] = {}  # local name of a client type -> service
        self.stub_modules: dict[str, str] = {}  # local alias of a mypy_boto3 module -> service
        self.module_aliases: set[str] = set()  # names bound by import statements

    # -- what a name means -------------------------------------------------

    def _imports(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self._note_aware(alias.name)
                    self.module_aliases.add((alias.asname or alias.name).split(".")[0])
                    service = _stub_service(alias.name)
                    if service:
                        self.stub_modules[alias.asname or alias.name] = service
            elif isinstance(node, ast.ImportFrom) and node.module:
                self._note_aware(node.module)
                service = _stub_service(node.module)
                if service:
                    for alias in node.names:
                        if alias.name.endswith("Client"):
                            self.stub_types[alias.asname or alias.name] = service

    def _note_aware(self, module: str) -> None:
        if module.startswith(_AWS_IMPORTS):
            self.scan.aws_aware = True

    def _annotation_service(self, node: ast.expr | None) -> str | None:
        if node is None:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in self.stub_types:
                return self.stub_types[sub.id]
            if (
                isinstance(sub, ast.Attribute)
                and sub.attr.endswith("Client")
                and isinstance(sub.value, ast.Name)
                and sub.value.id in self.stub_modules
            ):
                return self.stub_modules[sub.value.id]
        return None

    @staticmethod
    def _client_call_service(node: ast.expr | None) -> str | None:
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute | ast.Name):
            return None
        name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
        if name == "client":
            return _str_arg(node, "service_name")
        if isinstance(node.func, ast.Attribute) and _is_provider(node.func.value):
            return name if name in _all_services() else None
        return None

    def _bindings(
        self, nodes: list[ast.stmt], *, attributes_only: bool = False, walk: bool = True
    ) -> dict[str, str]:
        """receiver text -> service, from assignments and annotations in ``nodes``.

        ``walk=False`` looks at the statements themselves only (module level);
        ``attributes_only`` keeps ``self.x`` bindings (a class's methods).
        """
        env: dict[str, str] = {}
        params: dict[str, str] = {}
        found = (sub for stmt in nodes for sub in (ast.walk(stmt) if walk else [stmt]))
        for node in found:
            targets: list[ast.expr] = []
            service: str | None = None
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
                    arg_service = self._annotation_service(arg.annotation)
                    if arg_service:
                        params[arg.arg] = arg_service
            elif isinstance(node, ast.Assign):
                targets, service = node.targets, self._value_service(node.value, params)
            elif isinstance(node, ast.AnnAssign):
                targets = [node.target]
                service = self._annotation_service(node.annotation) or self._value_service(
                    node.value, params
                )
            for target in targets if service else []:
                text = ast.unparse(target)
                if not attributes_only or text.startswith("self."):
                    env[text] = service  # type: ignore[assignment]
        if not attributes_only:
            env = {**params, **env}
        return env

    def _value_service(self, value: ast.expr | None, params: dict[str, str]) -> str | None:
        if isinstance(value, ast.Name) and value.id in params:
            return params[value.id]
        return self._client_call_service(value)

    # -- the walk ----------------------------------------------------------

    def run(self) -> Scan:
        self._imports()
        self._visit(self.tree.body, [self._bindings(self.tree.body, walk=False)])
        return self.scan

    def _visit(self, body: list[ast.stmt], scopes: list[dict[str, str]]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.ClassDef):
                fields = {
                    f"self.{ast.unparse(node.target)}": service
                    for node in stmt.body
                    if isinstance(node, ast.AnnAssign)
                    and (service := self._annotation_service(node.annotation))
                }
                fields.update(self._bindings(stmt.body, attributes_only=True))
                self._visit(stmt.body, [*scopes, fields])
            elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                self._visit_calls(stmt.decorator_list, scopes)
                self._visit(stmt.body, [*scopes, self._bindings([stmt])])
            else:
                self._visit_calls([stmt], scopes)

    def _visit_calls(
        self, nodes: list[ast.stmt] | list[ast.expr], scopes: list[dict[str, str]]
    ) -> None:
        for root in nodes:
            called = {
                id(node.func)
                for node in ast.walk(root)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            }
            for node in ast.walk(root):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    self._call(node, node.func, scopes)
                elif isinstance(node, ast.Attribute) and id(node) not in called:
                    self._reference(node, scopes)
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    self.scan.named.add(node.value)

    def _reference(self, node: ast.Attribute, scopes: list[dict[str, str]]) -> None:
        """``ec2.create_snapshot`` handed to a helper that calls it: a call all the same."""
        service = self._service_of(node.value, scopes)
        if service is not None and node.attr in _snake_ops(service):
            text = ast.unparse(node)
            self.scan.calls.append(Call(node.lineno, service, node.attr, "call", text))

    def _service_of(self, receiver: ast.expr, scopes: list[dict[str, str]]) -> str | None:
        direct = self._client_call_service(receiver)
        if direct:
            return direct
        text = ast.unparse(receiver)
        for scope in reversed(scopes):
            if text in scope:
                return scope[text]
        return None

    def _marked_dynamic(self, node: ast.Call) -> bool:
        last = getattr(node, "end_lineno", None) or node.lineno
        return any(DYNAMIC_MARKER in self.lines[i - 1] for i in range(node.lineno, last + 1))

    def _call(self, node: ast.Call, func: ast.Attribute, scopes: list[dict[str, str]]) -> None:
        service = self._service_of(func.value, scopes)
        method = func.attr
        text = ast.unparse(node)
        if len(text) > 80:
            text = text[:77] + "..."
        if method == "resource" and _str_arg(node, "service_name") and self.scan.aws_aware:
            self.scan.problems.append(
                f"line {node.lineno}: boto3 resources are not checked; use a client ({text})"
            )
        elif method in _NAMED:
            if service is not None or self.scan.aws_aware:
                self._named(node, method, service, text)
        elif method in _S3_TRANSFER and (
            service == "s3" or (service is None and self.scan.aws_aware and method != "copy")
        ):
            self.scan.calls.append(Call(node.lineno, service, method, "transfer", text))
        elif service is not None:
            if method in _snake_ops(service):
                self.scan.calls.append(Call(node.lineno, service, method, "call", text))
        elif (
            self.scan.aws_aware
            and method in _multiword_ops()
            and not self._on_imported_module(func.value)
        ):
            self.scan.calls.append(Call(node.lineno, None, method, "call", text))

    def _on_imported_module(self, receiver: ast.expr) -> bool:
        """``botocore.session.get_session()`` is a function of a module, not a client call."""
        while isinstance(receiver, ast.Attribute):
            receiver = receiver.value
        return isinstance(receiver, ast.Name) and receiver.id in self.module_aliases

    def _named(self, node: ast.Call, method: str, service: str | None, text: str) -> None:
        """A paginator, waiter or presigned URL: the operation is named by a string argument."""
        keyword, via = _NAMED[method]
        name = _str_arg(node, keyword)
        if name is not None:
            self.scan.calls.append(Call(node.lineno, service, name, via, text))
        elif not self._marked_dynamic(node):
            self.scan.problems.append(
                f"line {node.lineno}: {method} with a name that is not a literal cannot be "
                f"checked ({text}); name it literally or mark the line '# {DYNAMIC_MARKER}'"
            )


# Client methods that name an operation or waiter: keyword of the name, kind.
_NAMED = {
    "get_paginator": ("operation_name", "paginator"),
    "can_paginate": ("operation_name", "paginator"),
    "get_waiter": ("waiter_name", "waiter"),
    "generate_presigned_url": ("ClientMethod", "presign"),
}


def scan_source(source: str, filename: str = "<source>") -> Scan:
    tree = ast.parse(source, filename=filename)
    return _Scanner(tree, source.splitlines()).run()


def _describe(call: Call) -> str:
    kind = {"paginator": "paginator ", "waiter": "waiter ", "presign": "presigned "}.get(
        call.via, ""
    )
    return f"line {call.line}: {kind}{call.text}"


def _candidates(call: Call, declared: OperationMap) -> list[tuple[str, frozenset[str]]]:
    """(service, operations) the call may be: its own service, else a declared one, else any."""
    if call.service:
        ops = resolve(call, call.service)
        return [(call.service, ops)] if ops else []
    for services in (list(declared), FALLBACK_SERVICES):
        found = [(service, ops) for service in services if (ops := resolve(call, service))]
        if found:
            return found
    return []


def check(declared: OperationMap | None, scan: Scan) -> list[str]:
    """What is wrong between a module's declaration and its calls, one message per finding."""
    failures = list(scan.problems)
    if declared is None:
        if scan.calls:
            first = scan.calls[0]
            failures.append(f"calls AWS ({_describe(first)}) but declares no AWS_OPERATIONS")
        return failures
    used: set[tuple[str, str]] = set()
    for call in scan.calls:
        options = list(_candidates(call, declared))
        if not options:
            failures.append(
                f"{_describe(call)}: not an operation of {call.service or 'any service'}"
            )
            continue
        covered = [
            (service, ops) for service, ops in options if ops <= declared.get(service, frozenset())
        ]
        if covered:
            for service, ops in covered[:1]:
                used.update((service, op) for op in ops)
            continue
        service, ops = options[0]
        missing = sorted(ops - declared.get(service, frozenset()))
        also = (
            f" (or {', '.join(s for s, _ in options[1:4])}; annotate the client)"
            if len(options) > 1
            else ""
        )
        failures.append(
            f"{_describe(call)}: calls {service}{also} {', '.join(missing)}, "
            f"which AWS_OPERATIONS does not declare"
        )
    if not failures:
        for service, ops in sorted(declared.items()):
            for op in sorted(ops):
                if (service, op) not in used and xform_name(op) not in scan.named:
                    failures.append(f"declares {service} {op} but never calls it")
    return failures
