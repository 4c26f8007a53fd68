"""Facts about a region that a template needs and no CloudFormation intrinsic can look up, written
as SSM parameters before the deploy, which the stacks read as SSM-typed parameters (synth stays
hermetic; CloudFormation resolves them when it creates the change set).

Today one fact: the id of the AWS-managed prefix list `com.amazonaws.<region>.s3`, the web tier's
only route to S3 (its gateway endpoint; patterns/web_tier.py, ACC-1). Prefix list ids differ per
region, and a security group rule takes an id, never a name
(https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html).

    python -m tooling.region_facts --deployment au-production            # dry run: what would change
    python -m tooling.region_facts --deployment au-production --apply --profile p

Only a list owned by AWS is accepted: a customer-managed list of the same name could hold any
address, and the parameter decides where the instances may connect.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import boto3

from config import Deployment, load_config
from config.topology import DR, PRIMARY, FailoverTopology

ClientFactory = Callable[[str, str], Any]
AWS_OWNER = "AWS"


class RegionFactMissingError(RuntimeError):
    """The region has no AWS-managed list of that name (a region without S3 gateway endpoints)."""


@dataclass(frozen=True)
class FactChange:
    parameter: str
    region: str
    value: str
    previous: str | None  # None: the parameter did not exist

    @property
    def changed(self) -> bool:
        return self.value != self.previous


def s3_prefix_list_id(ec2: Any, region: str) -> str:
    """The id of `com.amazonaws.<region>.s3`, owned by AWS."""
    name = f"com.amazonaws.{region}.s3"
    lists = ec2.describe_managed_prefix_lists(Filters=[{"Name": "prefix-list-name", "Values": [name]}])["PrefixLists"]
    owned = [item["PrefixListId"] for item in lists if item.get("OwnerId") == AWS_OWNER]
    if len(owned) != 1:
        raise RegionFactMissingError(f"{region}: {len(owned)} AWS-managed prefix lists named {name} (expected 1)")
    return str(owned[0])


def _current(ssm: Any, name: str) -> str | None:
    try:
        return str(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return None


def ensure_region_facts(clients: ClientFactory, deployment: Deployment, *, apply: bool) -> list[FactChange]:
    """Write each region's facts where they are missing or differ (only with `apply`); idempotent."""
    topology = FailoverTopology.of(deployment)
    changes = []
    for role in (PRIMARY, DR):
        region = topology.region(role)
        ssm = clients("ssm", region)
        name = topology.s3_prefix_list_parameter(role)
        change = FactChange(name, region, s3_prefix_list_id(clients("ec2", region), region), _current(ssm, name))
        if apply and change.changed:
            ssm.put_parameter(
                Name=name,
                Value=change.value,
                Type="String",
                Overwrite=change.previous is not None,
                Description=f"{topology.prefix(role)}: the AWS-managed S3 prefix list (tooling/region_facts.py)",
            )
        changes.append(change)
    return changes


def describe(changes: Sequence[FactChange], *, applied: bool) -> str:
    verb = "set" if applied else "would set"
    return "\n".join(
        f"{c.region} {c.parameter} = {c.value}" + (f" ({verb}; was {c.previous})" if c.changed else " (unchanged)")
        for c in changes
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deployment", required=True, help="<jurisdiction>-<environment>")
    parser.add_argument("--profile")
    parser.add_argument("--apply", action="store_true", help="write the parameters (default: dry run)")
    args = parser.parse_args(argv)
    deployment = load_config().get(args.deployment)
    session = boto3.Session(profile_name=args.profile)
    changes = ensure_region_facts(
        lambda service, region: session.client(service, region_name=region), deployment, apply=args.apply
    )
    print(describe(changes, applied=args.apply))
    return 0


if __name__ == "__main__":
    sys.exit(main())
