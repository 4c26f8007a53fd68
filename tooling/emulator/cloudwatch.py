"""CloudWatch: metric alarms that evaluate, and `AWS::CloudWatch::Alarm` in CloudFormation.

Evaluation is synchronous: every `PutMetricData` re-evaluates the single-metric alarms on
that metric in its region, so a test reads the new state right after the put. The window
is the `EvaluationPeriods` periods ending with the newest datapoint of the metric (AWS
ends it at the current time; a test that publishes "now" sees the same result).
"""

from __future__ import annotations

import json
import math
import operator
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import Alarm, CloudWatchBackend, MetricAggregatedDatum, MetricDatumBase, cloudwatch_backends
from moto.core.common_models import CloudFormationModel
from moto.moto_api._internal import urls as moto_api_urls
from moto.rds.models import rds_backends

from tooling.emulator.cfn_models import register_models
from tooling.emulator.patch import Patch

NOT_MODELLED = "NOT_MODELLED"  # the value of a reference moto cannot resolve

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"

COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}


def _timestamp(value: Any) -> float:
    """Seconds since the epoch of a datapoint's timestamp (datetime, ISO text or number)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _samples(datum: MetricDatumBase) -> tuple[float, float, float, float]:
    """(sum, minimum, maximum, sample count) of one stored datum."""
    if isinstance(datum, MetricAggregatedDatum):
        return datum.sum, datum.min, datum.max, datum.sample_count
    value = float(datum.value)  # type: ignore[attr-defined]
    return value, value, value, 1.0


def statistic(data: list[MetricDatumBase], name: str) -> float | None:
    sums, minimums, maximums, counts = zip(*(_samples(d) for d in data), strict=True)
    total, count = sum(sums), sum(counts)
    values = {
        "Sum": total,
        "SampleCount": count,
        "Minimum": min(minimums),
        "Maximum": max(maximums),
        "Average": total / count if count else math.nan,
    }
    return values.get(name)


def _matches(alarm: Alarm, datum: MetricDatumBase) -> bool:
    return (
        datum.namespace == alarm.namespace
        and datum.name == alarm.metric_name
        and {(d.name, d.value) for d in datum.dimensions} == {(d.name, d.value) for d in alarm.dimensions}
    )


def evaluable(alarm: Alarm) -> bool:
    """Single-metric alarms on a standard statistic; others keep the state moto gives them."""
    return bool(
        alarm.metric_name
        and not alarm.metric_data_queries
        and alarm.statistic in ("Sum", "SampleCount", "Minimum", "Maximum", "Average")
        and alarm.comparison_operator in COMPARISONS
    )


def evaluate(alarm: Alarm, metric_data: list[MetricDatumBase]) -> None:
    """Set the alarm's state from its newest `EvaluationPeriods` periods (M of N, TreatMissingData)."""
    if not evaluable(alarm):
        return
    data = [d for d in metric_data if _matches(alarm, d)]
    period = int(alarm.period or 60)
    periods = int(alarm.evaluation_periods or 1)
    needed = int(alarm.datapoints_to_alarm or periods)
    treat_missing = alarm.treat_missing_data or "missing"
    buckets: dict[int, list[MetricDatumBase]] = {}
    for datum in data:
        buckets.setdefault(int(_timestamp(datum.timestamp) // period), []).append(datum)
    newest = max(buckets, default=0)
    window = [buckets.get(index) for index in range(newest - periods + 1, newest + 1)] if buckets else []
    values = [statistic(bucket, alarm.statistic) for bucket in window if bucket]
    compare, words = COMPARISONS[alarm.comparison_operator]
    threshold = float(alarm.threshold)
    breaching = [v for v in values if v is not None and compare(v, threshold)]
    missing = periods - len(values)
    if not values:
        state = {"breaching": ALARM, "notBreaching": OK, "ignore": None}.get(treat_missing, INSUFFICIENT_DATA)
        reason = f"Insufficient Data: no datapoints for {periods} period(s) (TreatMissingData {treat_missing})."
    else:
        count = len(breaching) + (missing if treat_missing == "breaching" else 0)
        state = ALARM if count >= needed else OK
        shown = ", ".join(f"{v:g}" for v in values if v is not None)
        verb = "was" if state == ALARM else "was not"
        reason = (
            f"Threshold Crossed: {count} out of the last {periods} datapoints [{shown}] {verb} "
            f"{words} the threshold ({threshold:g}) (minimum {needed} datapoint(s) for OK -> ALARM transition)."
        )
    if state is None or state == alarm.state_value:
        return
    reason_data = {
        "version": "1.0",
        "queryDate": datetime.now(UTC).isoformat(),
        "statistic": alarm.statistic,
        "period": period,
        "recentDatapoints": values,
        "threshold": threshold,
        "evaluatedDatapoints": len(values),
    }
    alarm.update_state(reason, json.dumps(reason_data), state)


_put_metric_data = CloudWatchBackend.put_metric_data


def put_metric_data_and_evaluate(self: CloudWatchBackend, namespace: str, metric_data: list[dict[str, Any]]) -> None:
    _put_metric_data(self, namespace, metric_data)
    names = {m.get("MetricName") for m in metric_data}
    for alarm in list(self.alarms.values()):
        if alarm.namespace == namespace and alarm.metric_name in names:
            evaluate(alarm, self.metric_data)


_put_metric_alarm = CloudWatchBackend.put_metric_alarm


def put_metric_alarm_with_aws_state(self: CloudWatchBackend, name: str, *args: Any, **kwargs: Any) -> Alarm:
    """A new alarm starts INSUFFICIENT_DATA (moto: OK); an updated one keeps its state; both evaluate."""
    previous = self.alarms.get(name)
    alarm = _put_metric_alarm(self, name, *args, **kwargs)
    if previous is not None:
        alarm.state_value, alarm.state_reason = previous.state_value, previous.state_reason
        alarm.state_reason_data, alarm.history = previous.state_reason_data, previous.history
    elif evaluable(alarm):
        alarm.state_value, alarm.state_reason = INSUFFICIENT_DATA, "Unchecked: Initial alarm creation"
    evaluate(alarm, self.metric_data)
    return alarm


class CloudFormationAlarm(CloudFormationModel):
    """`AWS::CloudWatch::Alarm` (single metric), which moto's CloudFormation skips."""

    def __init__(self, alarm: Alarm, account_id: str, region_name: str) -> None:
        self.alarm = alarm
        self.account_id = account_id
        self.region_name = region_name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @property
    def physical_resource_id(self) -> str:
        return str(self.alarm.name)

    @classmethod
    def has_cfn_attr(cls, attribute: str) -> bool:
        return attribute == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name == "Arn":
            return self.alarm.alarm_arn
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> CloudFormationAlarm:
        p = cloudformation_json.get("Properties", {})
        backend = cloudwatch_backends[account_id][region_name]
        alarm = backend.put_metric_alarm(
            name=p.get("AlarmName") or resource_name,
            namespace=p.get("Namespace"),
            metric_name=p.get("MetricName"),
            comparison_operator=p.get("ComparisonOperator"),
            evaluation_periods=int(p.get("EvaluationPeriods", 1)),
            period=int(p.get("Period", 60)),
            threshold=float(p.get("Threshold", 0)),
            statistic=p.get("Statistic"),
            description=p.get("AlarmDescription"),
            # A dimension whose value is a Ref to a type moto does not model (e.g. a Synthetics
            # canary's name) arrives without a Value: keep the alarm, with a placeholder value.
            dimensions=[
                {"Name": d["Name"], "Value": str(d.get("Value", NOT_MODELLED))} for d in p.get("Dimensions", [])
            ],
            alarm_actions=p.get("AlarmActions", []),
            datapoints_to_alarm=int(p["DatapointsToAlarm"]) if p.get("DatapointsToAlarm") else None,
            extended_statistic=p.get("ExtendedStatistic"),
            ok_actions=p.get("OKActions", []),
            insufficient_data_actions=p.get("InsufficientDataActions", []),
            unit=p.get("Unit"),
            actions_enabled=str(p.get("ActionsEnabled", True)).lower() == "true",
            treat_missing_data=p.get("TreatMissingData"),
        )
        return cls(alarm, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> CloudFormationAlarm:
        new = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
        if original_resource.alarm.name != new.alarm.name:
            original_resource.delete(account_id, region_name)
        return new

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([resource_name])

    def delete(self, account_id: str, region_name: str) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([self.alarm.name])


# --- ReplicaLag once the source region is gone ------------------------------------------
#
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PostgreSQL.Replication.ReadReplicas.html
# ("Monitoring replication"): for RDS for PostgreSQL, ReplicaLag is now() -
# pg_last_xact_replay_timestamp(), so once the source stops sending WAL the lag grows one
# second per second; RDS publishes it once a minute. moto publishes no RDS metric (the game
# day stands in with a datapoint); once a region is blacked out, the emulator adds the
# per-minute datapoints RDS would publish for every replica of a source in that region: the
# last published lag until the blackout began, then growing with the clock, until the
# replica is promoted (it has no source, so no ReplicaLag any more).

REPLICA_LAG = ("AWS/RDS", "ReplicaLag")
BLACKOUTS: dict[str, float] = {}  # region -> epoch seconds at which it stopped answering
BLACKOUT_PATH = "/moto-api/emulator/blackout"


def black_out(region: str, at: float | None = None) -> None:
    BLACKOUTS[region] = time.time() if at is None else at


def restore(region: str) -> None:
    BLACKOUTS.pop(region, None)


def _source_region(account_id: str, region: str, db_instance_id: str) -> str | None:
    database = rds_backends[account_id][region].databases.get(db_instance_id)
    source = getattr(database, "source_db_instance_identifier", None) if database else None
    if not source:
        return None
    return str(source).split(":")[3] if str(source).startswith("arn:") else region


def _lag_series(backend: CloudWatchBackend) -> dict[str, MetricDatumBase]:
    """The newest ReplicaLag datum per DB instance in this region."""
    newest: dict[str, MetricDatumBase] = {}
    for datum in backend.metric_data:
        if (datum.namespace, datum.name) != REPLICA_LAG:
            continue
        ids = [str(d.value) for d in datum.dimensions if d.name == "DBInstanceIdentifier"]
        if len(ids) != 1:
            continue
        known = newest.get(ids[0])
        if known is None or _timestamp(datum.timestamp) >= _timestamp(known.timestamp):
            newest[ids[0]] = datum
    return newest


def grow_replica_lag(backend: CloudWatchBackend, now: float | None = None) -> None:
    """Add the ReplicaLag datapoints RDS would have published since the newest one (see above)."""
    now = time.time() if now is None else now
    for db_instance_id, datum in _lag_series(backend).items():
        source = _source_region(backend.account_id, backend.region_name, db_instance_id)
        if source is None or source not in BLACKOUTS:
            continue
        began, last_at, last_lag = BLACKOUTS[source], _timestamp(datum.timestamp), _samples(datum)[2]
        replayed = max(began, last_at) - last_lag  # the replay position stops where the source stopped
        dimensions = [{"Name": "DBInstanceIdentifier", "Value": db_instance_id}]
        points: list[dict[str, Any]] = []
        at = last_at + LAG_PERIOD_S
        while at <= now:
            lag = last_lag if at < began else at - replayed
            stamp = datetime.fromtimestamp(at, UTC).replace(tzinfo=None)  # moto keeps naive UTC
            points.append({"MetricName": REPLICA_LAG[1], "Dimensions": dimensions, "Value": lag, "Timestamp": stamp})
            at += LAG_PERIOD_S
        if points:
            put_metric_data_and_evaluate(backend, REPLICA_LAG[0], points)


LAG_PERIOD_S = 60

_get_metric_statistics = CloudWatchBackend.get_metric_statistics
_get_metric_data = CloudWatchBackend.get_metric_data


def get_metric_statistics_with_lag(self: CloudWatchBackend, *args: Any, **kwargs: Any) -> Any:
    grow_replica_lag(self)
    return _get_metric_statistics(self, *args, **kwargs)


def get_metric_data_with_lag(self: CloudWatchBackend, *args: Any, **kwargs: Any) -> Any:
    grow_replica_lag(self)
    return _get_metric_data(self, *args, **kwargs)


def blackout_response(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    """The game day's outage switch (not an AWS API): POST {"region": ..., "restore": false}."""
    body = json.loads(request.get_data() or b"{}")
    region = str(body["region"])
    if body.get("restore"):
        restore(region)
    else:
        black_out(region, body.get("at"))
    return 200, {"Content-Type": "application/json"}, json.dumps({"blackouts": BLACKOUTS})


def request_blackout(endpoint_url: str, region: str, *, restore_region: bool = False, at: float | None = None) -> None:
    """Tell a running emulator that `region` stopped (or resumed) answering, from `at` (default: now)."""
    data = json.dumps({"region": region, "restore": restore_region, "at": at}).encode()
    url = endpoint_url.rstrip("/") + BLACKOUT_PATH
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def _apply_replica_lag() -> None:
    CloudWatchBackend.get_metric_statistics = get_metric_statistics_with_lag  # type: ignore[method-assign]
    CloudWatchBackend.get_metric_data = get_metric_data_with_lag  # type: ignore[method-assign]
    moto_api_urls.url_paths["{0}" + BLACKOUT_PATH + "$"] = blackout_response


def _apply_evaluation() -> None:
    CloudWatchBackend.put_metric_data = put_metric_data_and_evaluate  # type: ignore[method-assign]
    CloudWatchBackend.put_metric_alarm = put_metric_alarm_with_aws_state  # type: ignore[method-assign]


def _apply_cloudformation() -> None:
    register_models(CloudFormationAlarm)


PATCHES = [
    Patch(
        "cloudwatch",
        "evaluate-alarms-on-put-metric-data",
        "moto stores PutMetricData but never evaluates alarms (and starts them OK, AWS: INSUFFICIENT_DATA)",
        _apply_evaluation,
    ),
    Patch(
        "cloudwatch",
        "cloudformation-alarm",
        "AWS::CloudWatch::Alarm is accepted and skipped by moto's CloudFormation, so no alarm exists",
        _apply_cloudformation,
    ),
    Patch(
        "cloudwatch",
        "replica-lag-grows-without-source",
        "moto publishes no ReplicaLag; RDS for PostgreSQL's grows one second per second once the source is gone",
        _apply_replica_lag,
    ),
]
