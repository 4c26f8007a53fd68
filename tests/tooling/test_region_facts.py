"""tooling/region_facts.py: the S3 prefix list id the web tier's egress needs, written per region (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from config import Deployment, load_config
from tooling.region_facts import RegionFactMissingError, describe, ensure_region_facts, s3_prefix_list_id


@pytest.fixture
def deployment() -> Deployment:
    return load_config().get("au-production")


@pytest.fixture
def clients() -> Iterator[Any]:
    with mock_aws():
        yield lambda service, region: boto3.client(service, region_name=region)


def _aws_list_id(clients: Any, region: str) -> str:
    """The id of the list AWS owns (moto creates it per region, as AWS does)."""
    lists = clients("ec2", region).describe_managed_prefix_lists()["PrefixLists"]
    (found,) = [
        p["PrefixListId"]
        for p in lists
        if p["PrefixListName"] == f"com.amazonaws.{region}.s3" and p["OwnerId"] == "AWS"
    ]
    return str(found)


def test_dry_run_writes_nothing_and_apply_writes_each_regions_own_id(clients: Any, deployment: Deployment) -> None:
    planned = ensure_region_facts(clients, deployment, apply=False)
    assert [(c.region, c.previous, c.changed) for c in planned] == [
        ("ap-southeast-2", None, True),
        ("ap-southeast-4", None, True),
    ]
    assert "would set" in describe(planned, applied=False)
    assert clients("ssm", "ap-southeast-2").describe_parameters()["Parameters"] == []

    ensure_region_facts(clients, deployment, apply=True)
    for role, region in (("primary", "ap-southeast-2"), ("dr", "ap-southeast-4")):
        value = clients("ssm", region).get_parameter(Name=f"/au-production-{role}/network/s3-prefix-list-id")
        assert value["Parameter"]["Value"] == _aws_list_id(clients, region)

    again = ensure_region_facts(clients, deployment, apply=True)  # idempotent
    assert not any(c.changed for c in again) and "unchanged" in describe(again, applied=True)


def test_a_tampered_parameter_is_put_back(clients: Any, deployment: Deployment) -> None:
    ensure_region_facts(clients, deployment, apply=True)
    ssm = clients("ssm", "ap-southeast-2")
    name = "/au-production-primary/network/s3-prefix-list-id"
    ssm.put_parameter(Name=name, Value="pl-0everything", Type="String", Overwrite=True)
    (primary, _) = ensure_region_facts(clients, deployment, apply=True)
    assert primary.previous == "pl-0everything" and primary.changed
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == _aws_list_id(clients, "ap-southeast-2")


def test_a_customer_managed_list_of_the_same_name_is_never_taken(clients: Any) -> None:
    """Only AWS's own list: a customer-managed one could hold 0.0.0.0/0."""
    ec2 = clients("ec2", "ap-southeast-2")
    ec2.create_managed_prefix_list(
        PrefixListName="com.amazonaws.ap-southeast-2.s3",
        AddressFamily="IPv4",
        MaxEntries=1,
        Entries=[{"Cidr": "0.0.0.0/0"}],
    )
    assert s3_prefix_list_id(ec2, "ap-southeast-2") == _aws_list_id(clients, "ap-southeast-2")


def test_a_region_without_the_list_is_a_clear_error() -> None:
    class NoLists:
        def describe_managed_prefix_lists(self, **_: Any) -> dict[str, Any]:
            return {"PrefixLists": []}

    with pytest.raises(RegionFactMissingError, match=r"0 AWS-managed prefix lists named com\.amazonaws\.xx-east-9\.s3"):
        s3_prefix_list_id(NoLists(), "xx-east-9")
