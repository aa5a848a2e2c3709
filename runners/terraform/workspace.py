"""One stack in one environment: the Terraform steps, with that environment's backend.

Each (stack, environment) pair gets its own ``TF_DATA_DIR``, so planning
development and production from one checkout never mixes their backends, and
init always runs with ``-reconfigure``: automation must never migrate state.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runners.config import BackendConfig
from runners.terraform import plantext, plugincache
from runners.terraform.engine import Gate, Result, Terraform, build_args

LOCK_FILE = ".terraform.lock.hcl"

_DIFF_NOTICE = (
    b"\n(runners: the planned changes are printed below once sensitive values are scrubbed)\n"
)


@dataclass
class Workspace:
    tf: Terraform
    dir: Path
    data_dir: Path
    backend: BackendConfig = field(default_factory=dict)
    var_files: tuple[str, ...] = ()
    color: bool = True
    _ahead: Future[Result] | None = field(default=None, init=False, repr=False)

    @property
    def lock_file(self) -> Path:
        return self.dir / LOCK_FILE

    def _run(self, args: list[str], **kw: object) -> Result:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.tf.run(args, self.dir, extra_env={"TF_DATA_DIR": str(self.data_dir)}, **kw)  # type: ignore[arg-type]

    def init_ahead(self) -> None:
        """Start ``init`` now, in the background; the next ``init()`` waits for it.

        The plan command starts it as soon as it knows the stack, so the rest
        of runners loads while Terraform initialises.
        """
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="terraform-init")
        self._ahead = pool.submit(self.init)
        pool.shutdown(wait=False)

    @property
    def init_started(self) -> bool:
        return self._ahead is not None

    def init(self, lockfile_readonly: bool = False) -> Result:
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            done = ahead.result()  # never two inits at once in one data dir
            if not lockfile_readonly:
                return done
        args = build_args(
            ["init"],
            {
                "input": "false",
                "reconfigure": True,
                "no_color": not self.color,
                "lockfile": "readonly" if lockfile_readonly else None,
                "backend_config": dict(self.backend) if self.backend else None,
            },
        )
        # Terraform's plugin cache is not safe for concurrent installs (plugincache).
        with plugincache.held(self.plugin_cache, self.dir, self.lock_file):
            return self._run(args)

    @property
    def plugin_cache(self) -> Path | None:
        cache = self.tf.env.get("TF_PLUGIN_CACHE_DIR")
        return Path(cache) if cache else None

    def plan(self, planfile: Path, text_dest: Path) -> bool:
        """Plan into ``planfile``; True when there are changes (exit code 2).

        ``text_dest`` receives the plan as ``terraform show -no-color`` would
        print it, taken from the plan step's own output (``plantext``).
        """
        with open(text_dest, "wb") as held:
            result = self._run(
                build_args(
                    ["plan"],
                    {
                        "input": "false",
                        "detailed_exitcode": True,
                        "no_color": not self.color,
                        "var_file": list(self.var_files) or None,
                        "out": str(planfile),
                    },
                ),
                ok_codes=(0, 2),
                gate=Gate(plantext.STARTS, _DIFF_NOTICE, held),
            )
        text = plantext.from_plan_output(text_dest.read_bytes())
        if text:
            text_dest.write_bytes(text)
        else:  # a rendering this version of runners does not recognise: ask show
            self.show_text(planfile, text_dest)
        return result.returncode == 2

    def show_json(self, planfile: Path, dest: Path) -> None:
        """``show -json`` of a saved plan into ``dest``."""
        self._run(
            build_args(["show"], {"json": True}, [str(planfile)]), stdout_file=dest, stream=False
        )

    def show_text(self, planfile: Path, dest: Path) -> None:
        """Plain ``show`` of a saved plan into ``dest``."""
        self._run(
            build_args(["show"], {"no_color": True}, [str(planfile)]),
            stdout_file=dest,
            stream=False,
        )

    def pull_state(self, dest: Path) -> None:
        """``state pull`` into ``dest``: the state the backend holds now (empty when none)."""
        self._run(["state", "pull"], stdout_file=dest, stream=False)

    def local_module_dirs(self) -> list[Path]:
        """The stack's folder and every local module it uses, as ``init`` resolved them.

        Read from the ``modules.json`` that init writes, so planning needs no second
        parse of the configuration. Remote modules are left out: git does not hold them.
        """
        import json

        found = [self.dir.resolve()]
        try:
            data = json.loads((self.data_dir / "modules" / "modules.json").read_text())
        except FileNotFoundError:
            return found  # no module calls at all
        for mod in data.get("Modules") or ():
            source, folder = str(mod.get("Source") or ""), mod.get("Dir")
            if folder and source.startswith(("./", "../")):
                path = (self.dir / folder).resolve()
                if path not in found:
                    found.append(path)
        return found

    def version(self) -> str:
        """The Terraform version as the plan JSON records it (e.g. 1.15.5)."""
        import json

        out = self._run(["version", "-json"], stream=False).stdout
        try:
            return str(json.loads(out)["terraform_version"])
        except (ValueError, KeyError, TypeError):
            first = out.split()
            return first[1].lstrip("v") if len(first) > 1 else "unknown"

    def apply(self, planfile: Path) -> Result:
        return self._run(
            build_args(["apply"], {"input": "false", "no_color": not self.color}, [str(planfile)])
        )

    def destroy(self) -> Result:
        """Destroy everything the state holds, with the workspace's variables (a drill's clean-up)."""
        return self._run(
            build_args(
                ["destroy"],
                {
                    "auto_approve": True,
                    "input": "false",
                    "no_color": not self.color,
                    "var_file": list(self.var_files) or None,
                },
            )
        )

    def outputs(self) -> dict[str, Any]:
        """``output -json``: name -> {"value", "sensitive", "type"}, as Terraform gives it."""
        import json

        out = self._run(build_args(["output"], {"json": True}), stream=False).stdout
        data = json.loads(out or "{}")
        return data if isinstance(data, dict) else {}

    def state_addresses(self) -> list[str]:
        """``state list``: the address of every resource the state still holds."""
        out = self._run(["state", "list"], stream=False).stdout
        return [line.strip() for line in out.splitlines() if line.strip()]
