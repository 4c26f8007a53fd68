"""Post-deploy checks: what the delivery pipeline runs after each deployment's stage (issue 21),
in a CodeBuild step of the tooling account, and what an engineer runs from a laptop.

    python -m tooling.post_deploy --deployment au-production [--config ...] \
        [--checks name,drift,replica] [--assume-lookup-role]

Read-only. The checks (tooling/post_deploy_checks.py; docs/REAL_ACCOUNT.md, "Post-deploy checks"):

- `name` (DR-1, OPS-2): the public name answers with the PRIMARY region's load balancer;
- `drift` (BAK-8, ACC-3, ACC-4): CloudFormation drift detection finds every stateful stack IN_SYNC;
- `replica` (DR-1; only with a warm standby): the DR database is a read replica of the primary and
  its ReplicaLag is within the design database RPO (`replica_lag_alarm_seconds`, <= 60 s).

Every selected check runs, whatever the others found, and each prints its verdict; the runbooks'
StepRunner is not used because it stops at the first failed step, and a post-deploy report must
name every failed check. Exit codes are the runbooks' (runbooks/toolkit.py): 0 every check passed,
1 a check failed (one `FAILED <check> (<clauses>): <reason>` line each), 2 bad arguments.

Credentials: the default chain, or with `--assume-lookup-role` the CDK bootstrap's read-only lookup
role of the target account in each region (`cdk-<qualifier>-lookup-role-<account>-<region>`, the
default qualifier the project bootstraps with, patterns/audit_lock.py). The pipeline's account must
be trusted for it (`cdk bootstrap --trust` or `--trust-for-lookup`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

import boto3

from config.topology import DR, PRIMARY, FailoverTopology
from patterns.audit_lock import CDK_QUALIFIER
from runbooks import standby
from runbooks.toolkit import EXIT_OK, EXIT_STEP_FAILED, add_deployment_args, positive_int, resolve_topology
from tooling.post_deploy_checks import (
    CheckResult,
    DriftWait,
    check_drift,
    check_name,
    check_replica,
    stateful_stacks,
)

CHECKS: dict[str, str] = {  # name -> the clauses it serves (docs/POLICY.md)
    "name": "DR-1, OPS-2",
    "drift": "BAK-8, ACC-3, ACC-4",
    "replica": "DR-1",
}
# The stack outputs the pipeline passes in (stacks/web.py, stacks/dns.py).
ALB_DNS_ENV = "PRIMARY_ALB_DNS_NAME"  # `<deployment>-primary-web` output LoadBalancerDnsName
ZONE_ID_ENV = "HOSTED_ZONE_ID"  # `<deployment>-primary-dns` output HostedZoneId

ClientFactory = Callable[[str, str], Any]  # (service, region) -> boto3 client


def lookup_role_arn(account: str, region: str) -> str:
    return f"arn:aws:iam::{account}:role/cdk-{CDK_QUALIFIER}-lookup-role-{account}-{region}"


def default_clients(base: boto3.Session | None = None) -> ClientFactory:
    session = base or boto3.Session()
    return lambda service, region: session.client(service, region_name=region)


def lookup_role_clients(topology: FailoverTopology, base: boto3.Session | None = None) -> ClientFactory:
    """Clients built from the lookup role's session of their region, assumed once per region (through
    that region's STS endpoint) from the `base` credentials."""
    base = base or boto3.Session()
    sessions: dict[str, boto3.Session] = {}

    def client(service: str, region: str) -> Any:
        if region not in sessions:
            credentials = base.client("sts", region_name=region).assume_role(
                RoleArn=lookup_role_arn(topology.account, region),
                RoleSessionName=f"post-deploy-{topology.deployment}"[:64],
            )["Credentials"]
            sessions[region] = boto3.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                region_name=region,
            )
        return sessions[region].client(service, region_name=region)

    return client


@dataclass(frozen=True)
class NameInputs:
    alb_dns_name: str
    zone_id: str


@dataclass(frozen=True)
class Runtime:
    """What the checks take from outside: clients, DNS, time. Tests replace every part."""

    clients: ClientFactory
    resolve: Callable[[str], set[str]] = standby.resolve_addresses
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    drift_wait: DriftWait = field(default_factory=DriftWait)


def run_check(
    name: str, topology: FailoverTopology, runtime: Runtime, inputs: NameInputs | None, out: TextIO
) -> CheckResult:
    aws, primary, dr = runtime.clients, topology.primary_region, topology.dr_region
    if name == "name":
        assert inputs is not None
        return check_name(
            aws("route53", primary),
            topology,
            alb_dns_name=inputs.alb_dns_name,
            zone_id=inputs.zone_id,
            resolve=runtime.resolve,
        )
    if name == "drift":
        clients = {PRIMARY: aws("cloudformation", primary), DR: aws("cloudformation", dr)}
        return check_drift(clients, stateful_stacks(topology), wait=runtime.drift_wait, out=out)
    if not topology.standby_enabled:
        return CheckResult(
            "replica", True, "the deployment has no warm standby (standby.enabled = false)", skipped=True
        )
    return check_replica(aws("rds", dr), aws("cloudwatch", dr), topology, now=runtime.now())


def run_checks(
    names: Sequence[str], topology: FailoverTopology, runtime: Runtime, inputs: NameInputs | None, out: TextIO
) -> list[CheckResult]:
    """Runs every check in `names` and prints `[2/3] drift ... passed: <reason>` and its detail lines."""
    results = []
    for index, name in enumerate(names, start=1):
        try:
            result = run_check(name, topology, runtime, inputs, out)
        except Exception as error:  # AccessDenied, throttling, a region that does not answer: the check fails
            result = CheckResult(name, False, standby.describe_error(error))
        verdict = "skipped" if result.skipped else "passed" if result.passed else "FAILED"
        print(f"[{index}/{len(names)}] {name} ({CHECKS[name]}) ... {verdict}: {result.reason}", file=out, flush=True)
        for line in result.details:
            print(f"    {line}", file=out)
        results.append(result)
    return results


def _check_list(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in CHECKS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown check {', '.join(unknown) or '(none given)'}: allowed {', '.join(CHECKS)} (comma-separated)"
        )
    return list(dict.fromkeys(names))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tooling.post_deploy",
        description="Read-only checks after a deployment's stage deployed "
        "(docs/REAL_ACCOUNT.md, 'Post-deploy checks').",
        epilog=(
            "checks: name (DR-1, OPS-2): the public name answers with the primary ALB; drift (BAK-8, ACC-3, "
            "ACC-4): every stateful stack IN_SYNC; replica (DR-1, warm standby only): the DR database replicates "
            "the primary within the design RPO (replica_lag_alarm_seconds). "
            f"Environment: {ALB_DNS_ENV}, {ZONE_ID_ENV} (for `name`). "
            "Exit codes: 0 every check passed, 1 a check failed, 2 bad arguments."
        ),
    )
    add_deployment_args(parser)
    parser.add_argument(
        "--checks",
        type=_check_list,
        default=list(CHECKS),
        help=f"comma-separated, from {', '.join(CHECKS)} (default: all)",
    )
    parser.add_argument(
        "--assume-lookup-role",
        action="store_true",
        help="build every client from the target account's CDK lookup role of its region "
        f"(cdk-{CDK_QUALIFIER}-lookup-role-<account>-<region>; default: the default credentials)",
    )
    parser.add_argument(
        "--primary-alb-dns-name",
        default=None,
        help=f"the primary ALB's DNS name (default: ${ALB_DNS_ENV}, "
        "the <deployment>-primary-web output LoadBalancerDnsName)",
    )
    parser.add_argument(
        "--hosted-zone-id",
        default=None,
        help=f"the public zone's id (default: ${ZONE_ID_ENV}, the <deployment>-primary-dns output HostedZoneId)",
    )
    parser.add_argument(
        "--drift-timeout",
        type=positive_int,
        default=int(DriftWait().timeout_s),
        help="seconds to wait for drift detection of all stacks (default: %(default)s)",
    )
    return parser


def _name_inputs(parser: argparse.ArgumentParser, args: argparse.Namespace, environ: Mapping[str, str]) -> NameInputs:
    """The option, else the environment variable; a missing one is a usage error naming both."""
    found = {}
    for option, variable, output in (
        ("primary_alb_dns_name", ALB_DNS_ENV, "the <deployment>-primary-web output LoadBalancerDnsName"),
        ("hosted_zone_id", ZONE_ID_ENV, "the <deployment>-primary-dns output HostedZoneId"),
    ):
        value = getattr(args, option) or environ.get(variable, "").strip()
        if not value:
            flag = "--" + option.replace("_", "-")
            parser.error(f"check `name` needs {variable} ({output}): set it or pass {flag}")
        found[option] = value
    zone = found["hosted_zone_id"].removeprefix("/hostedzone/")
    return NameInputs(alb_dns_name=found["primary_alb_dns_name"], zone_id=zone)


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    runtime_for: Callable[[FailoverTopology, bool], Runtime] | None = None,
    out: TextIO | None = None,
) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    topology = resolve_topology(parser, args)
    inputs = _name_inputs(parser, args, os.environ if environ is None else environ) if "name" in args.checks else None
    out = out or sys.stdout
    if runtime_for is None:
        clients = lookup_role_clients(topology) if args.assume_lookup_role else default_clients()
        runtime = Runtime(clients=clients, drift_wait=DriftWait(timeout_s=args.drift_timeout))
    else:
        runtime = runtime_for(topology, args.assume_lookup_role)
    who = "the lookup role" if args.assume_lookup_role else "the default credentials"
    print(
        f"post-deploy checks of {topology.deployment} (account {topology.account}, primary "
        f"{topology.primary_region}, DR {topology.dr_region}) as {who}: {', '.join(args.checks)}",
        file=out,
    )
    started = time.monotonic()
    results = run_checks(args.checks, topology, runtime, inputs, out)
    failed = [result for result in results if not result.passed]
    for result in failed:
        print(f"FAILED {result.name} ({CHECKS[result.name]}): {result.reason}", file=out)
    took = time.monotonic() - started
    print(f"{len(results) - len(failed)} of {len(results)} checks passed ({took:.1f} s)", file=out, flush=True)
    return EXIT_STEP_FAILED if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
