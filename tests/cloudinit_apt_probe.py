"""Run one cloud-init release's apt module on a cloud-config and print the files it writes.

Executed by tests/cloudinit_release.py with Debian's python3 and the release's
own ``cloudinit`` package first on ``sys.path``; argv[1] is a JSON object
``{"apt": <the user data's apt section>, "image": <the image's apt config>}``.
cloud-init merges the user data over the image's configuration; the module's
real ``apply_apt`` then runs with file writes captured instead of made, and
with the steps that would run programs (keys, package installs, renaming
apt lists) left out. Prints ``{"version": ..., "files": {path: content}}``.
"""

import json
import sys
import types

from cloudinit import util, version
from cloudinit.config import cc_apt_configure as apt

request = json.loads(sys.argv[1])
cfg = {**request["image"], **request["apt"]}
written = {}


def write_file(filename, content, mode=0o644, *args, **kwargs):
    written[str(filename)] = content.decode() if isinstance(content, bytes) else content


def nothing(*args, **kwargs):
    return None


util.write_file = write_file
util.ensure_dir = nothing
util.del_file = nothing
util.lsb_release = lambda *a, **k: {"codename": request["codename"]}
util.get_dpkg_architecture = lambda *a, **k: "amd64"
apt.add_mirror_keys = lambda *a, **k: {}  # 25.1 reads the keys it added as a mapping
for name in ("rename_apt_lists", "_ensure_dependencies"):
    if hasattr(apt, name):
        setattr(apt, name, nothing)


class Datasource:
    availability_zone = None
    region = None

    def get_package_mirror_info(self):
        return {}

    def __getattr__(self, name):
        return lambda *a, **k: None


class Distro:
    name = "debian"

    def get_primary_arch(self):
        return "amd64"

    def get_package_mirror_info(self, *a, **k):
        return {}


def get_template_filename(name):
    return None  # the builtin sources.list template is the one Debian's package ships


cloud = types.SimpleNamespace(
    distro=Distro(), datasource=Datasource(), get_template_filename=get_template_filename
)
# The third argument is the target root in 22.4 and a GPG helper in 25.1; neither is used here.
apt.apply_apt(cfg, cloud, None)
print(json.dumps({"version": version.version_string(), "files": written}))
