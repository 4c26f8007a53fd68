"""Every check of both regions, the table and the command line (`python -m tooling.preflight`)."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from config import Deployment, load_config
from tooling.preflight.account import (
    check_bootstrap,
    check_config_recorder,
    check_delegation,
    check_region_opt_in,
    check_session_document,
    check_user_email,
)
from tooling.preflight.assembly import options_from_assembly
from tooling.preflight.offerings import check_cache_node_type, check_instance_type_offerings
from tooling.preflight.orphans import check_orphans
from tooling.preflight.quotas import check_ec2_vcpu_quota, check_lambda_concurrency_quota
from tooling.preflight.results import CheckResult, ClientFactory, NameServerLookup, PreflightOptions, Status
from tooling.preflight.versions import (
    check_cache_engine_version,
    check_canary_runtime,
    check_db_engine_version,
    check_db_instance_class,
)


def default_lookup_ns() -> NameServerLookup | None:
    """NS lookup with `dig` or `nslookup` if present; None (check reported unverified) otherwise."""
    dig = shutil.which("dig")
    if dig is not None:

        def with_dig(name: str) -> set[str]:
            output = subprocess.run(
                [dig, "+short", "NS", name], capture_output=True, text=True, timeout=20, check=False
            )
            return {line.strip() for line in output.stdout.splitlines() if line.strip()}

        return with_dig
    nslookup = shutil.which("nslookup")
    if nslookup is not None:

        def with_nslookup(name: str) -> set[str]:
            output = subprocess.run(
                [nslookup, "-type=NS", name], capture_output=True, text=True, timeout=20, check=False
            )
            return set(re.findall(r"nameserver\s*=\s*(\S+)", output.stdout))

        return with_nslookup
    return None


def run_preflight(
    deployment: Deployment,
    clients: ClientFactory,
    options: PreflightOptions = PreflightOptions(),
    lookup_ns: NameServerLookup | None = None,
) -> list[CheckResult]:
    """Every check, both regions; regions that are not enabled skip their regional checks."""
    account = clients("account", "us-east-1")
    results: list[CheckResult] = []
    for region in deployment.regions:
        opt_in = check_region_opt_in(account, region, options)
        results.append(opt_in)
        if opt_in.status is Status.FAIL:
            results.append(CheckResult("regional checks", region, Status.FAIL, "skipped: region not enabled"))
            continue
        results.append(check_session_document(clients("ssm", region), region, options))
        results.append(check_config_recorder(clients("config", region), region, options))
        results.append(check_bootstrap(clients("cloudformation", region), region, deployment, options))
        results.append(check_canary_runtime(clients("synthetics", region), region, options=options))
        rds = clients("rds", region)
        results.append(check_db_engine_version(rds, region, options=options))
        results.append(check_db_instance_class(rds, region, deployment, options=options))
        elasticache = clients("elasticache", region)
        results.append(check_cache_engine_version(elasticache, region, options=options))
        results.extend(_offerings(clients("ec2", region), elasticache, region, deployment, options))
        quotas = clients("service-quotas", region)
        results.append(check_ec2_vcpu_quota(quotas, clients("ec2", region), region, deployment, options))
        results.append(check_lambda_concurrency_quota(quotas, region, options))
        if region == deployment.primary_region:
            results.append(check_user_email(clients("sesv2", region), region, deployment, options))
        results.extend(check_orphans(clients, region, deployment, options))
    results.append(check_delegation(clients("route53", "us-east-1"), deployment, lookup_ns, options))
    return results


def _offerings(
    ec2: Any, elasticache: Any, region: str, deployment: Deployment, options: PreflightOptions
) -> list[CheckResult]:
    return [
        check_instance_type_offerings(ec2, region, deployment, options),
        check_cache_node_type(elasticache, region, deployment, options),
    ]


def render_table(results: Sequence[CheckResult]) -> str:
    header = ("status", "scope", "check", "message")
    rows = [(r.status.value.upper(), r.scope, r.check, r.message) for r in results]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    lines = [
        "  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(row)) for row in [header, *rows]
    ]
    remedies = [f"  - [{r.scope}] {r.check}: {r.remedy}" for r in results if r.status is not Status.OK and r.remedy]
    if remedies:
        lines += ["", "What to do:", *remedies]
    return "\n".join(lines)


def failed(results: Sequence[CheckResult]) -> bool:
    return any(r.status is Status.FAIL for r in results)


def session_clients(profile: str | None = None, endpoint_url: str | None = None) -> ClientFactory:
    import boto3

    session = boto3.Session(profile_name=profile)

    def factory(service: str, region: str) -> Any:
        return session.client(service, region_name=region, endpoint_url=endpoint_url)

    return factory


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tooling.preflight", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deployment", default="au-production")
    parser.add_argument("--profile")
    parser.add_argument("--assembly", type=Path, default=Path("cdk.out"), help="synthesized cloud assembly")
    args = parser.parse_args(argv)
    deployment = load_config().get(args.deployment)
    options = options_from_assembly(args.assembly, deployment, profile=args.profile)
    results = run_preflight(deployment, session_clients(args.profile), options, default_lookup_ns())
    print(render_table(results))
    return 1 if failed(results) else 0
