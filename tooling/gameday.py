"""The DR game day: deploy a production-shaped deployment into the emulator, lose the
primary region, fail over with the real automation, fail back, and time every step.

    python -m tooling.gameday                          # au-production, a fresh moto server
    python -m tooling.gameday --skip-synth             # reuse ./cdk.out
    python -m tooling.gameday --server-url http://localhost:5000
    python -m tooling.gameday --outage hang           # the primary region hangs instead of resetting

What it does, in order (every check is printed PASS/FAIL; any FAIL exits 1):

1. deploys the deployment (`tooling.deploy.deploy`: DR foundation -> primary -> DR standby);
2. checks the standby (replica of the primary, switch alarm, PRIMARY/SECONDARY records,
   DR web tier in service), puts an object into the primary content bucket and waits for
   it in the DR bucket;
   then releases the sample application (`tooling/gameday_release.py`, OPS-7): v1 to both
   regions, v2 with a DR web alarm tripped (rolled back by the instance refresh), v2 again;
3. publishes a `ReplicaLag` datapoint for the DR replica: moto publishes no RDS metrics,
   so the game day stands in for RDS here (and again, 0 s, for the failback's new replica);
4. the outage: the failover (`runbooks.failover`, executed) gets primary-region clients
   whose every call raises `EndpointConnectionError` (`--outage reset`, the default), or, with
   `--outage hang`, real clients with the CLI's fail-fast settings (`runbooks/cli.py`: one
   attempt, 5 s read timeout) against a loopback endpoint that accepts and never answers
   (`tooling/dead_endpoint.py`), so every call costs what it would on AWS; every call is recorded, and the
   game day checks that nothing but the probe and the (skipped) fence was tried there
   and that no Route 53 change was made; the emulator is told the region is blacked out
   (`tooling.emulator.cloudwatch.request_blackout`), so the replica's `ReplicaLag` grows
   one second per second from then on, as RDS's does; then the public name must answer
   with the DR ALB's addresses (Route 53 TestDNSAnswer answers an alias with addresses)
   and the promoted replica must be a writer;
5. writes an object into the DR bucket (a write taken while DR serves);
6. does not wait for the next minute: the switch alarm aggregates per period (60 s), and
   a 1 and a 0 in the same period keep its Maximum at 1, so the failback runs on a clock
   one alarm period (plus 1 s) ahead of the real time (`failback_clock`). Its switch
   datapoint is stamped with that clock (`runbooks.standby.publish_switch` stamps the
   runner's `now()`), so the 0 lands in a later period than the failover's 1, as after a
   real wait: time compressed in the emulator, said so in the report. The same clock
   decides the maintenance window (overridden with a recorded reason, below) and the
   `ReplicaLag` window (now - 5 min .. now + 1 min, which still holds the datapoint of
   step 3, published at the real time);
7. the failback (`runbooks.failback`, executed, `outside_window` with a recorded reason,
   since a game day runs at any time), then checks the starting topology is back; the DR
   region served v2 after the failover and the primary runs v2 after the failback.

It prints a Markdown table of every failover and failback step (the runners' measured
durations) and writes the same, with the checks, the note on the shifted clock and every
recorded call, to JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from config import load_config
from config.topology import DR, PRIMARY, FailoverTopology
from runbooks import failback, failover, standby
from runbooks.cli import FAIL_FAST
from runbooks.failback import Failback, FailbackOptions, RegionClients
from runbooks.failover import Failover, FailoverOptions
from runbooks.standby import Route53TestAnswer
from runbooks.toolkit import AuditLog
from tooling import gameday_checks as checks
from tooling import gameday_release
from tooling.dead_endpoint import dead_endpoint
from tooling.deploy import ASSEMBLY, REPO, deploy, synthesize
from tooling.emulator import cloudwatch as emulator_cloudwatch
from tooling.emulator.route53 import alias_addresses
from tooling.gameday_clients import ROUTE53_CHANGES, CallLog, Recorded, Unreachable
from tooling.gameday_report import GameDayReport
from tooling.moto_server import MotoServer, emulator_environment, start_moto_server

REPORT = REPO / "build" / "gameday.json"
FAIL_FAST_TEXT = "one attempt, 3 s connect, 5 s read timeout (runbooks/cli.py)"
OUTAGES = ("reset", "hang")  # how the lost region fails: connections reset, or accepted and never answered
# Short polling: the emulator answers at once, so the game day takes minutes, not hours.
FAILOVER_TIMEOUTS = failover.Timeouts(poll_s=0.5, promote_s=60, targets_s=60, dns_s=60)
FAILBACK_TIMEOUTS = failback.Timeouts(poll_s=0.5, db_s=60, lag_s=60, targets_s=60, dns_s=60)
PRIMARY_WRITES_ALLOWED = {("autoscaling", "update_auto_scaling_group")}  # the fence, which must be skipped
CLOCK_MARGIN_S = 1  # the failback's clock runs one switch alarm period and this much ahead


def emulator_dns(name: str) -> set[str]:
    """An ALB name's addresses as the emulator's TestDNSAnswer gives them (the emulator has no DNS)."""
    return set(alias_addresses(name))


def client_factory(env: dict[str, str]) -> checks.ClientFactory:
    def aws(service: str, region: str) -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=env["AWS_ENDPOINT_URL"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )

    return aws


@contextlib.contextmanager
def timed(report: GameDayReport, phase: str) -> Iterator[None]:
    start = time.monotonic()
    try:
        yield
    finally:
        report.phases[phase] = round(time.monotonic() - start, 1)


def publish_replica_lag(aws: checks.ClientFactory, region: str, db_instance_id: str, seconds: float) -> None:
    """moto publishes no RDS metrics: the game day stands in for RDS with one `ReplicaLag` datapoint."""
    print(f"emulator stands in for RDS: ReplicaLag {seconds:g} s for {db_instance_id} in {region}", flush=True)
    aws("cloudwatch", region).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": db_instance_id}],
                "Value": seconds,
                "Unit": "Seconds",
            }
        ],
    )


def switch_period_s(aws: checks.ClientFactory, topo: FailoverTopology) -> int:
    """The period of the deployed switch alarm (60 s): how far ahead the failback's clock runs."""
    alarm = standby.switch_alarm(aws("cloudwatch", topo.dr_region), topo)
    if alarm is None:
        raise LookupError(f"{topo.switch_alarm_name} not found in {topo.dr_region}")
    return int(alarm["Period"])


def failback_clock(period_s: int, real: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Callable[[], datetime]:
    """The failback's `now`: the real time plus one switch alarm period and `CLOCK_MARGIN_S`.

    Instead of sleeping until the next period: the failover stamped its 1 with the real time,
    the failback stamps its 0 with this clock, which is always in a later period.
    """
    ahead = timedelta(seconds=period_s + CLOCK_MARGIN_S)
    return lambda: real() + ahead


def compress_time(
    aws: checks.ClientFactory,
    topo: FailoverTopology,
    report: GameDayReport,
    real: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Callable[[], datetime]:
    """The failback's shifted clock, noted in the report (replaces a real wait of up to one period)."""
    period = switch_period_s(aws, topo)
    report.note(
        f"no wait for the next switch period: the failback ran on a clock {period + CLOCK_MARGIN_S} s ahead "
        f"(one {period} s switch alarm period + {CLOCK_MARGIN_S} s; time compressed in the emulator) "
        "instead of sleeping; its switch datapoint (0), maintenance-window check and ReplicaLag window "
        "used that clock"
    )
    return failback_clock(period, real)


def _failover_runner(
    aws: checks.ClientFactory,
    topo: FailoverTopology,
    zone_id: str,
    audit: Path,
    log: CallLog,
    *,
    primary_reachable: bool,
    hanging_endpoint: str | None = None,
) -> Failover:
    """The failover as the on-call engineer runs it from the DR region; the primary region's clients
    fail like a region that does not answer until `primary_reachable`: they reset, or, given a
    `hanging_endpoint`, are the CLI's fail-fast clients of an endpoint that never answers."""
    dr, primary = topo.dr_region, topo.primary_region

    def rec(service: str, region: str = dr) -> Any:
        return Recorded(aws(service, region), service, region, log)

    def primary_client(service: str) -> Any:
        if primary_reachable:
            return rec(service, primary)
        if hanging_endpoint is not None:
            client = boto3.client(
                service,
                region_name=primary,
                endpoint_url=hanging_endpoint,
                config=FAIL_FAST,
                aws_access_key_id="testing",  # never checked: nothing answers
                aws_secret_access_key="testing",
            )
            return Recorded(client, service, primary, log)
        return Unreachable(service, primary, log)

    return Failover(
        topo,
        rds=rec("rds"),
        autoscaling=rec("autoscaling"),
        elbv2=rec("elbv2"),
        cloudwatch=rec("cloudwatch"),
        secretsmanager=rec("secretsmanager"),
        public_answer=Route53TestAnswer(Recorded(aws("route53", dr), "route53", "global", log), zone_id, emulator_dns),
        audit_log=AuditLog(audit),
        primary_rds=primary_client("rds"),
        primary_autoscaling=primary_client("autoscaling"),
        ssm=rec("ssm"),  # the release skew precondition (OPS-7)
        timeouts=FAILOVER_TIMEOUTS,
        out=sys.stdout,
    )


def run_failover(
    aws: checks.ClientFactory,
    topo: FailoverTopology,
    zone_id: str,
    run_id: str,
    audit: Path,
    report: GameDayReport,
    *,
    outage: str = "reset",
) -> None:
    log = CallLog()
    with contextlib.ExitStack() as stack:
        hanging = stack.enter_context(dead_endpoint(hang=True))[0] if outage == "hang" else None
        runner = _failover_runner(aws, topo, zone_id, audit, log, primary_reachable=False, hanging_endpoint=hanging)
        reason = f"game day {run_id}: simulated outage of {topo.primary_region} (emulator, {outage})"
        if hanging is not None:
            report.note(
                f"outage: {topo.primary_region} hangs (accepts, never answers); fail-fast clients {FAIL_FAST_TEXT}"
            )
        result = runner.run(FailoverOptions(reason=reason), run_id=run_id, execute=True)
    _check_failover(topo, report, log, result)


def _check_failover(topo: FailoverTopology, report: GameDayReport, log: CallLog, result: Any) -> None:
    report.add_run("failover", result)
    report.calls["failover"] = [call.as_json() for call in log.calls]
    report.check("failover completed", result.outcome == "completed", f"{result.outcome} {result.failed_step or ''}")
    lost = log.in_region(topo.primary_region)
    reached = [c for c in lost if not c.outcome.startswith("error")]
    writes = {(c.service, c.operation) for c in lost if not c.operation.startswith(("describe_", "list_", "get_"))}
    report.check(
        "no call reached the primary region",
        not reached and writes <= PRIMARY_WRITES_ALLOWED,
        f"{len(lost)} call(s) tried, all failed: {[f'{c.service}.{c.operation}' for c in lost]}",
    )
    fence = [s for s in report.steps if s.procedure == "failover" and s.step == "fence-primary"]
    report.check("the fence was skipped", [s.status for s in fence] == ["skipped"], f"{[s.status for s in fence]}")
    route53 = [c.operation for c in log.of_service("route53")]
    changes = [operation for operation in route53 if operation in ROUTE53_CHANGES]
    report.check("no Route 53 change", not changes, f"route53 calls: {sorted(set(route53))}")


def complete_failover(
    aws: checks.ClientFactory, topo: FailoverTopology, zone_id: str, run_id: str, audit: Path, report: GameDayReport
) -> None:
    """The region answers again: the same failover run fences the old primary it could not reach (its
    fence was pending, exit 3), and nothing else. Failback refuses until this is done."""
    log = CallLog()
    runner = _failover_runner(aws, topo, zone_id, audit, log, primary_reachable=True)
    reason = f"game day {run_id}: {topo.primary_region} answers again; fence the old primary"
    result = runner.run(FailoverOptions(reason=reason), run_id=run_id, execute=True)
    promotions = [c for c in log.calls if c.operation == "promote_read_replica"]
    report.check(
        "the pending fence is completed when the region returns",
        result.exit_code == 0 and not result.pending and not promotions,
        f"{result.outcome} exit {result.exit_code} pending {result.pending} promotions {len(promotions)}",
    )


def run_failback(
    aws: checks.ClientFactory,
    topo: FailoverTopology,
    zone_id: str,
    run_id: str,
    audits: tuple[Path, Path],
    report: GameDayReport,
    *,
    now: Callable[[], datetime],
) -> None:
    log = CallLog()

    def region_clients(region: str) -> RegionClients:
        services = ("rds", "autoscaling", "cloudwatch", "s3", "elbv2", "secretsmanager", "cloudformation")
        return RegionClients(*(Recorded(aws(s, region), s, region, log) for s in services))

    runner = Failback(
        topo,
        dr=region_clients(topo.dr_region),
        primary=region_clients(topo.primary_region),
        public_answer=Route53TestAnswer(
            Recorded(aws("route53", topo.dr_region), "route53", "global", log), zone_id, emulator_dns
        ),
        audit_log=AuditLog(audits[1]),
        now=now,
        timeouts=FAILBACK_TIMEOUTS,
        out=sys.stdout,
    )
    options = FailbackOptions(
        reason=f"game day {run_id}: failback outside the maintenance window (emulator, any time of day)",
        outside_window=True,
        failover_audit_log=audits[0],
    )
    result = runner.run(options, run_id=run_id, execute=True)
    report.add_run("failback", result)
    report.calls["failback"] = [call.as_json() for call in log.calls]
    report.check("failback completed", result.outcome == "completed", f"{result.outcome} {result.failed_step or ''}")


def run_gameday(
    deployment_name: str,
    env: dict[str, str],
    assembly: Path = ASSEMBLY,
    *,
    workdir: Path = REPO / "build",
    report: GameDayReport | None = None,
    outage: str = "reset",
) -> GameDayReport:
    """Deploy into the emulator at env's endpoint, then fail over and back; the report holds every check."""
    topo = FailoverTopology.of(load_config().get(deployment_name))
    report = report or GameDayReport(deployment_name, env["AWS_ENDPOINT_URL"])
    aws = client_factory(env)
    run_id = f"gameday-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    audits = (workdir / "gameday" / f"{run_id}-failover.jsonl", workdir / "gameday" / f"{run_id}-failback.jsonl")
    with timed(report, "deploy (3 steps)"):
        deploy(deployment_name, env, assembly)
    zone_id = checks.hosted_zone_id(aws("route53", topo.primary_region), topo)

    print("\n== game day: the standby before the outage", flush=True)
    report.check("replica of the primary", *checks.replica_of_primary(aws, topo))
    report.check("switch alarm exists", *checks.switch_alarm(aws, topo))
    report.check("PRIMARY and SECONDARY records", *checks.failover_records(aws, topo, zone_id))
    report.check("DR web tier in service", *checks.web_in_service(aws, topo, DR, 2))
    report.check("public name answers primary", *checks.public_answer(aws, topo, zone_id, PRIMARY))
    key = f"gameday/{run_id}/before-outage.txt"
    aws("s3", topo.primary_region).put_object(Bucket=topo.content_bucket(PRIMARY), Key=key, Body=b"game day")
    report.check(
        "object replicated to DR", *checks.object_arrives(aws("s3", topo.dr_region), topo.content_bucket(DR), key)
    )
    publish_replica_lag(aws, topo.dr_region, topo.db_instance_id(DR), 1.0)
    with timed(report, "releases v1, v2 (rolled back), v2 (wall clock)"):  # OPS-7: tooling/gameday_release.py
        releases, v2 = gameday_release.run_releases(aws, topo, report, workdir / "gameday", run_id)

    print(f"\n== game day: {topo.primary_region} lost; failover {run_id}", flush=True)
    emulator_cloudwatch.request_blackout(env["AWS_ENDPOINT_URL"], topo.primary_region)  # ReplicaLag grows from now
    with timed(report, "failover (wall clock)"):
        run_failover(aws, topo, zone_id, run_id, audits[0], report, outage=outage)
    report.check("public name answers DR", *checks.public_answer(aws, topo, zone_id, DR))
    report.check("promoted DR database is a writer", *checks.writer(aws, topo, DR))
    gameday_release.check_region_runs(releases, v2, DR, report, "after the failover")
    during = f"gameday/{run_id}/during-outage.txt"
    aws("s3", topo.dr_region).put_object(Bucket=topo.content_bucket(DR), Key=during, Body=b"written in DR")

    failback_now = compress_time(aws, topo, report)
    publish_replica_lag(aws, topo.primary_region, topo.db_instance_id(PRIMARY), 0.0)

    print(f"\n== game day: {topo.primary_region} back; failback {run_id}", flush=True)
    emulator_cloudwatch.request_blackout(env["AWS_ENDPOINT_URL"], topo.primary_region, restore_region=True)
    complete_failover(aws, topo, zone_id, run_id, audits[0], report)
    with timed(report, "failback (wall clock)"):
        run_failback(aws, topo, zone_id, run_id, audits, report, now=failback_now)
    report.check("primary database is the writer", *checks.writer(aws, topo, PRIMARY))
    report.check("DR replica of the primary again", *checks.replica_of_primary(aws, topo))
    report.check("public name answers primary again", *checks.public_answer(aws, topo, zone_id, PRIMARY))
    s3 = aws("s3", topo.primary_region)
    report.check("DR write copied back", *checks.object_arrives(s3, topo.content_bucket(PRIMARY), during))
    report.check("DR web tier back to standby", *checks.web_in_service(aws, topo, DR, topo.standby_web_min_capacity))
    gameday_release.check_region_runs(releases, v2, PRIMARY, report, "after the failback")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deployment", default="au-production", help="a deployment with a warm standby")
    parser.add_argument("--server-url", help="use an already running emulator instead of starting one")
    parser.add_argument("--skip-synth", action="store_true", help="reuse ./cdk.out")
    parser.add_argument("--report", type=Path, default=REPORT, help=f"JSON report (default: {REPORT})")
    parser.add_argument(
        "--outage", choices=OUTAGES, default="reset", help="how the lost primary region fails: reset or hang"
    )
    args = parser.parse_args(argv)
    config = load_config()
    if args.deployment not in [d.name for d in config.deployments]:
        parser.error(f"--deployment {args.deployment!r}: unknown")
    if not config.get(args.deployment).standby.enabled:
        parser.error(f"--deployment {args.deployment!r} has no warm standby to fail over to")

    if not args.skip_synth:
        synthesize(
            {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, context=[f"deployment={args.deployment}"]
        )
    server: MotoServer | None = None
    url = args.server_url
    if url is None:
        server = start_moto_server(config.get(args.deployment).account, REPO / "build" / "gameday_moto_server.log")
        url = server.endpoint_url
        print(f"moto server on {url} (pid {server.process.pid})", flush=True)
    report = GameDayReport(args.deployment, url)
    try:
        run_gameday(
            args.deployment,
            emulator_environment(url, config.get(args.deployment).account),
            report=report,
            outage=args.outage,
        )
    except Exception as error:  # reported as a failed check, with the report written all the same
        traceback.print_exc()
        report.check("the game day ran to the end", False, f"{type(error).__name__}: {error}")
    finally:
        if server is not None:
            server.stop()
            print(f"moto server (pid {server.process.pid}) stopped", flush=True)
    print("\n" + report.markdown())
    report.write(args.report)
    print(f"\ngame day {'PASSED' if report.ok else 'FAILED'}; report: {args.report}", flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
