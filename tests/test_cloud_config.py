"""The servers' first boot: the rendered cloud-config, step by step.

Rendered by the embedded Terraform from the module ec2-server uses
(tests/cloudconfig.py), compared with a golden file per sample, validated by
Debian's ``cloud-init schema``, and checked for each step the issue asks for.
Add a case by adding ``tests/fixtures/cloud-config/NAME.inputs.json`` and
running with ``RUNNERS_UPDATE_GOLDEN=1`` once to write ``NAME.yaml``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from runners.errors import TerraformError
from runners.terraform.modules import load_module
from tests import cloudconfig

SAMPLES = cloudconfig.samples()
WEB1 = cloudconfig.SAMPLES / "web-1.inputs.json"
AGENT_CONFIG = "/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json"
STREAM = "web-1.prod.acme.example"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = {}
    for inputs in SAMPLES:
        workdir = tmp_path_factory.mktemp(inputs.name.split(".")[0])
        out[inputs.name] = cloudconfig.render(json.loads(inputs.read_text()), workdir)
    return out


@pytest.fixture(scope="module")
def web1(rendered: dict[str, str]) -> dict[str, Any]:
    doc = yaml.safe_load(rendered[WEB1.name])
    assert isinstance(doc, dict)
    return doc


def test_ec2_server_renders_its_user_data_with_this_module() -> None:
    ec2 = load_module(cloudconfig.ROOT / "terraform/modules/ec2-server")
    assert ec2.module_calls == {"cloud_config": "./cloud-config"}
    assert "module.cloud_config.rendered" in (ec2.dir / "main.tf").read_text()


@pytest.mark.parametrize("inputs", SAMPLES, ids=lambda p: p.name.split(".")[0])
def test_rendering_matches_golden_file(inputs: Path, rendered: dict[str, str]) -> None:
    golden = cloudconfig.golden_path(inputs)
    if os.environ.get("RUNNERS_UPDATE_GOLDEN") == "1":
        golden.write_text(rendered[inputs.name])
    assert rendered[inputs.name] == golden.read_text()


def _need_releases() -> None:
    missing = cloudconfig.missing_releases()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(
                f"cloud-init for Debian {missing} is missing in CI: {cloudconfig.INSTALL_HINT}"
            )
        pytest.skip(f"cloud-init for Debian {missing} is not here: {cloudconfig.INSTALL_HINT}")


RELEASES = sorted(cloudconfig.RELEASES)


def test_each_release_runs_its_own_cloud_init() -> None:
    _need_releases()
    assert cloudconfig.release_version(12).startswith("22.4")
    assert cloudconfig.release_version(13).startswith("25.1")


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("inputs", SAMPLES, ids=lambda p: p.name.split(".")[0])
def test_cloud_init_accepts_the_rendering(
    inputs: Path, release: int, rendered: dict[str, str], tmp_path: Path
) -> None:
    _need_releases()
    assert cloudconfig.schema_errors(rendered[inputs.name], tmp_path, release) is None


@pytest.mark.parametrize("release", RELEASES)
def test_cloud_init_rejects_a_broken_document(
    release: int, tmp_path: Path, rendered: dict[str, str]
) -> None:
    """The schema check can fail: a wrong type is caught."""
    _need_releases()
    broken = rendered[WEB1.name].replace("package_upgrade: true", 'package_upgrade: "yes"')
    assert "package_upgrade" in (cloudconfig.schema_errors(broken, tmp_path, release) or "")


def test_debian_13_is_the_stricter_schema(tmp_path: Path, rendered: dict[str, str]) -> None:
    """Why both run: 22.4 lets a misspelt top-level key through; 25.1 refuses it."""
    _need_releases()
    doc = rendered[WEB1.name].replace("package_upgrade: true", "package_upgarde: true")
    assert cloudconfig.schema_errors(doc, tmp_path, 13) is not None
    assert cloudconfig.schema_errors(doc, tmp_path, 12) is None


def test_it_is_a_cloud_config_document(rendered: dict[str, str]) -> None:
    for text in rendered.values():
        assert text.startswith("#cloud-config\n")


def test_upgrades_the_os_and_all_software(web1: dict[str, Any]) -> None:
    assert web1["package_update"] is True
    assert web1["package_upgrade"] is True
    assert web1["package_reboot_if_required"] is True


MAINLINE = {
    "/etc/apt/mirrors/debian.list": "https://deb.debian.org/debian\n",
    "/etc/apt/mirrors/debian-security.list": "https://deb.debian.org/debian-security\n",
}


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize(
    "image", [{"generate_mirrorlists": True}, {}], ids=["image-mirrorlists", "image-plain"]
)
def test_apt_uses_the_mainline_debian_archive_over_https(
    web1: dict[str, Any], release: int, image: dict[str, object]
) -> None:
    """What the release's own apt module writes from the user data, whatever the image says.

    Debian's cloud images read ``mirror+file:///etc/apt/mirrors/debian*.list``;
    the module must write those two lists with the mainline archive, and no
    ``/etc/apt/sources.list`` beside them (every source would be listed twice).
    """
    _need_releases()
    assert cloudconfig.apt_files(web1["apt"], image, release) == MAINLINE


@pytest.mark.parametrize("release", RELEASES)
def test_the_old_setting_did_nothing_on_debians_images(release: int) -> None:
    """The finding: ``preserve_sources_list: false`` is skipped when the image generates mirror lists,
    so the image's cloud mirror stayed; the apt module wrote the lists from its own defaults."""
    _need_releases()
    old = {
        "preserve_sources_list": False,
        "primary": [{"arches": ["default"], "uri": "http://deb.debian.org/debian"}],
    }
    files = cloudconfig.apt_files(old, {"generate_mirrorlists": True}, release)
    assert "/etc/apt/sources.list" not in files
    assert files["/etc/apt/mirrors/debian.list"] == "http://deb.debian.org/debian\n"  # not https


def test_sets_the_fully_qualified_domain_name(web1: dict[str, Any]) -> None:
    assert web1["hostname"] == "web-1"
    assert web1["fqdn"] == "web-1.prod.acme.example"
    assert web1["prefer_fqdn_over_hostname"] is True
    assert web1["manage_etc_hosts"] is True


def test_installs_puppet_and_the_orchestration_dependencies(web1: dict[str, Any]) -> None:
    assert {"puppet-agent", "git", "ca-certificates", "curl", "gnupg"} <= set(web1["packages"])
    puppet = web1["puppet"]
    assert puppet["install"] is True
    assert puppet["package_name"] == "puppet-agent"
    assert puppet["conf"]["agent"] == {
        "server": "puppet.acme.example",
        "certname": "web-1.prod.acme.example",
        "environment": "production",
    }
    assert "nginx" in web1["packages"]  # extra_packages


def test_puppet_survives_a_reboot(web1: dict[str, Any], rendered: dict[str, str]) -> None:
    """Debian's puppet-agent ships puppet.service disabled (its postinst enables it only if it
    was enabled before); cloud-init 22.4 starts it without enabling it."""
    assert web1["puppet"]["start_service"] is True
    for text in rendered.values():
        doc = yaml.safe_load(text)
        assert doc["runcmd"][0] == ["systemctl", "enable", "puppet.service"]


def test_installs_awscli(web1: dict[str, Any]) -> None:
    assert "awscli" in web1["packages"]


def files(doc: dict[str, Any]) -> dict[str, str]:
    return {f["path"]: f["content"] for f in doc["write_files"]}


def test_ships_logs_to_cloudwatch(web1: dict[str, Any]) -> None:
    agent = json.loads(files(web1)[AGENT_CONFIG])
    shipped = {
        f["file_path"]: (f["log_group_name"], f["log_stream_name"])
        for f in agent["logs"]["logs_collected"]["files"]["collect_list"]
    }
    assert shipped == {
        "/var/log/syslog": ("/acme-prod/servers/syslog", "web-1.prod.acme.example"),
        "/var/log/auth.log": ("/acme-prod/servers/auth", "web-1.prod.acme.example"),
        "/var/log/cloud-init-output.log": (
            "/acme-prod/servers/cloud-init",
            "web-1.prod.acme.example",
        ),
    }
    assert agent["agent"]["region"] == "eu-west-1"
    assert "rsyslog" in web1["packages"]  # writes /var/log/syslog on Debian
    assert ["/usr/local/sbin/install-cloudwatch-agent"] in web1["runcmd"]


def test_cloudwatch_agent_is_installed_only_when_its_signature_verifies(
    web1: dict[str, Any],
) -> None:
    script = files(web1)["/usr/local/sbin/install-cloudwatch-agent"]
    lines = [ln.strip() for ln in script.splitlines()]
    assert 'want="937616F3450B7D806CBD9725D58167303B789C72"' in lines
    check = lines.index('if [ "$got" != "$want" ]; then')
    verify = lines.index("gpg --batch --homedir gnupg --verify agent.deb.sig agent.deb")
    install = lines.index("apt-get install -y ./agent.deb")
    assert check < verify < install
    assert lines[1:].count("set -eu") == 1


def test_scripts_are_valid_shell(web1: dict[str, Any], tmp_path: Path) -> None:
    for path, content in files(web1).items():
        if content.startswith("#!/bin/sh"):
            script = tmp_path / Path(path).name
            script.write_text(content)
            result = subprocess.run(
                ["sh", "-n", str(script)], capture_output=True, text=True, check=False
            )
            assert result.returncode == 0, f"{path}: {result.stderr}"


def test_data_volume_is_formatted_only_when_blank_and_mounted(web1: dict[str, Any]) -> None:
    script = files(web1)["/usr/local/sbin/mount-data-volume"]
    assert 'device="/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0"' in script
    assert 'if ! blkid "$device" >/dev/null 2>&1; then\n  mkfs.ext4 -q -L data "$device"' in script
    assert web1["runcmd"].index(["/usr/local/sbin/mount-data-volume"]) > 0


def test_efs_is_mounted_over_nfs(web1: dict[str, Any]) -> None:
    (mount,) = web1["mounts"]
    assert mount[:3] == [
        "fs-0123456789abcdef0.efs.eu-west-1.amazonaws.com:/",
        "/srv/shared",
        "nfs4",
    ]
    assert "nofail" in mount[3]
    assert "nfs-common" in web1["packages"]


def test_a_server_without_volumes_or_mounts_gets_neither(rendered: dict[str, str]) -> None:
    doc = yaml.safe_load(rendered["minimal.inputs.json"])
    assert "mounts" not in doc
    assert "/usr/local/sbin/mount-data-volume" not in files(doc)
    assert doc["runcmd"] == [
        ["systemctl", "enable", "puppet.service"],
        ["/usr/local/sbin/install-cloudwatch-agent"],
    ]
    assert "nfs-common" not in doc["packages"]


def test_values_cannot_break_the_yaml(tmp_path: Path) -> None:
    inputs = json.loads(WEB1.read_text())
    awkward = '/acme: "prod" #1 {x}'
    inputs["log_files"] = [{"path": "/var/log/syslog", "log_group_name": awkward}]
    doc = yaml.safe_load(cloudconfig.render(inputs, tmp_path))
    agent = json.loads(files(doc)[AGENT_CONFIG])
    assert agent["logs"]["logs_collected"]["files"]["collect_list"][0]["log_group_name"] == awkward


def test_a_bad_host_name_is_refused_by_the_module(tmp_path: Path) -> None:
    inputs = {**json.loads(WEB1.read_text()), "hostname": "Web_1"}
    with pytest.raises(TerraformError, match="Invalid value for variable"):
        cloudconfig.render(inputs, tmp_path)
