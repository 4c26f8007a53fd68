"""The web instances' boot script: fetch the pinned release, verify its digest, serve it (OPS-7).

Pure text, no CDK: the web tier renders it into its launch template and the release
automation (`runbooks/release.py`) re-pins an existing launch template version's script
with `pin_release`, so both produce the same script for the same release.

- No release pinned (the first boot before any release): a placeholder answers the
  health endpoint, nothing else.
- A release pinned: the artifact `releases/<version>/app.tar.gz` is read from this region's
  release bucket (HOST-2), its SHA-256 is checked against the pin before anything is
  unpacked (`set -e`: a mismatch stops the script, the app never starts, the load
  balancer's health check never passes and the instance refresh does not proceed), and
  `app.py` of the artifact serves on the app port with the health path (the contract
  with the load balancer, see apps/sample/).
"""

from __future__ import annotations

import re
from typing import Final

from config.model import Release, release_artifact_key

PIN_MARK: Final = "# OPS-7 release pin"
_PIN_LINE = re.compile(r"^RELEASE_(VERSION|SHA256)='([^']*)'  " + re.escape(PIN_MARK) + "$", re.MULTILINE)


def release_pin_lines(release: Release | None) -> list[str]:
    version, digest = (release.version, release.sha256) if release else ("", "")
    return [f"RELEASE_VERSION='{version}'  {PIN_MARK}", f"RELEASE_SHA256='{digest}'  {PIN_MARK}"]


def boot_commands(
    *, app_port: int, health_check_path: str, release_bucket: str, region: str, release: Release | None
) -> list[str]:
    """The user data's commands (a bash script; `ec2.UserData.for_linux` adds the shebang)."""
    health_file = health_check_path.lstrip("/")
    artifact_key = release_artifact_key("$RELEASE_VERSION")
    return [
        "set -euo pipefail",
        "dnf install -y amazon-ssm-agent python3",
        "systemctl enable --now amazon-ssm-agent",
        "id app >/dev/null 2>&1 || useradd --system --no-create-home --shell /sbin/nologin app",
        "install -d -m 0755 /srv/app",
        *release_pin_lines(release),
        f"RELEASE_BUCKET='{release_bucket}'",
        'if [ -z "$RELEASE_VERSION" ]; then',
        "  # First boot before any release: a placeholder answers the health endpoint only.",
        "  install -d -m 0755 /srv/app/placeholder",
        f"  echo ok > /srv/app/placeholder/{health_file}",
        f'  START="/usr/bin/python3 -m http.server {app_port} --directory /srv/app/placeholder"',
        "else",
        '  ARTIFACT="/var/tmp/app-$RELEASE_VERSION.tar.gz"',
        f'  aws s3api get-object --region {region} --bucket "$RELEASE_BUCKET" --key "{artifact_key}" "$ARTIFACT"',
        "  # The digest is checked before anything is unpacked; a mismatch ends the script here.",
        '  echo "$RELEASE_SHA256  $ARTIFACT" | sha256sum --check --strict -',
        '  install -d -m 0755 "/srv/app/releases/$RELEASE_VERSION"',
        '  tar -xzf "$ARTIFACT" -C "/srv/app/releases/$RELEASE_VERSION" --no-same-owner',
        '  ln -sfn "/srv/app/releases/$RELEASE_VERSION" /srv/app/current',
        f'  START="/usr/bin/python3 /srv/app/current/app.py --port {app_port} --health-path {health_check_path}"',
        "fi",
        "cat > /etc/systemd/system/app.service <<UNIT",
        "[Unit]",
        "Description=SaaS web application (release ${RELEASE_VERSION:-placeholder})",
        "After=network-online.target",
        "[Service]",
        "User=app",
        "ExecStart=$START",
        "Restart=always",
        "[Install]",
        "WantedBy=multi-user.target",
        "UNIT",
        "systemctl daemon-reload",
        "systemctl enable --now app.service",
    ]


def pinned_release(script: str) -> tuple[str, str] | None:
    """(version, sha256) a boot script pins, ("", "") for the placeholder, None when it has no pin lines."""
    found = dict(_PIN_LINE.findall(script))
    if set(found) != {"VERSION", "SHA256"}:
        return None
    return found["VERSION"], found["SHA256"]


def pin_release(script: str, release: Release) -> str:
    """The same boot script pinned to `release` (the automation's new launch template version)."""
    if pinned_release(script) is None:
        raise ValueError(f"the boot script has no '{PIN_MARK}' lines: not a web tier launch template")
    values = {"VERSION": release.version, "SHA256": release.sha256}
    return _PIN_LINE.sub(lambda m: f"RELEASE_{m.group(1)}='{values[m.group(1)]}'  {PIN_MARK}", script)
