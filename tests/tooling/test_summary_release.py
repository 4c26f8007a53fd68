"""The main job's summary prints which release runs in each region (OPS-7)."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from tooling.summary import RegionSummary, release_running, render


@mock_aws
def test_summary_names_the_release_each_region_runs() -> None:
    ssm = boto3.client("ssm", region_name="ap-southeast-2", aws_access_key_id="k", aws_secret_access_key="s")
    assert release_running(ssm, "/x/release/current") == "no web tier"
    ssm.put_parameter(Name="/x/release/current", Value=json.dumps({"version": "", "sha256": ""}), Type="String")
    assert release_running(ssm, "/x/release/current") == "no release yet (first-boot placeholder)"
    record = {"version": "2.0.0", "sha256": "ab" * 32}
    ssm.put_parameter(Name="/x/release/current", Value=json.dumps(record), Type="String", Overwrite=True)
    running = release_running(ssm, "/x/release/current")
    assert running == "2.0.0 (sha256 abababababab...)"
    assert "release running: 2.0.0" in render([RegionSummary("ap-southeast-2", [], running)])
