"""EC2 Auto Scaling instance refresh, which moto 5.2.5 does not implement, modelled as AWS documents it.

A wrapper around a (moto) `autoscaling` client: every other call goes to that client;
`start_instance_refresh`, `describe_instance_refreshes`, `cancel_instance_refresh` and
`rollback_instance_refresh` are answered by this model, which reads alarm states from a
(moto) `cloudwatch` client and the launch template versions from a (moto) `ec2` client,
and writes the group's launch template through `update_auto_scaling_group` when a refresh
succeeds. `advance()` moves a refresh on by one batch (the clock is the caller's).

Behaviour and its source:

- Preferences and their ranges (MinHealthyPercentage 0-100, MaxHealthyPercentage
  100-200 and at most 100 above the minimum, CheckpointDelay and BakeTime 0-172800,
  CheckpointPercentages ascending 1-100, up to 10 alarms), refused with a
  `ValidationError` as AWS does:
  https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html
- One refresh at a time per group (`InstanceRefreshInProgress`):
  https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_StartInstanceRefresh.html
- AutoRollback needs a desired configuration with a numbered launch template version (not
  `$Latest`/`$Default`) and no SSM parameter as the image id; on an alarm in ALARM, or a
  failed batch, the refresh rolls back to the group's previous configuration
  (`RollbackInProgress` -> `RollbackSuccessful`); without AutoRollback an alarm fails it:
  https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html
- Batches keep at least MinHealthyPercentage of the desired capacity in service; with
  MaxHealthyPercentage above 100 new instances launch before old ones terminate; a
  replacement counts only once healthy; checkpoints pause for CheckpointDelay; the bake
  time follows the last batch; the group takes the desired configuration on success:
  https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-overview.html
  https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-adding-checkpoints-instance-refresh.html
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

TERMINAL = ("Successful", "Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed")
UNPINNED = ("$Latest", "$Default")


def _error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "StartInstanceRefresh")


@dataclass
class _Refresh:
    refresh_id: str
    group: str
    desired: dict[str, Any]
    previous: dict[str, Any]
    preferences: dict[str, Any]
    capacity: int
    replaced: int = 0
    status: str = "Pending"
    reason: str = ""
    waiting_until: float = 0.0
    checkpoints_passed: list[int] = field(default_factory=list)
    history: list[str] = field(default_factory=list)

    @property
    def percentage(self) -> int:
        return 100 if self.capacity == 0 else math.floor(100 * self.replaced / self.capacity)

    def as_json(self) -> dict[str, Any]:
        return {
            "InstanceRefreshId": self.refresh_id,
            "AutoScalingGroupName": self.group,
            "Status": self.status,
            "StatusReason": self.reason,
            "PercentageComplete": self.percentage,
            "InstancesToUpdate": self.capacity - self.replaced,
            "Preferences": self.preferences,
            "DesiredConfiguration": {"LaunchTemplate": self.desired},
        }


class InstanceRefreshModel:
    """`autoscaling` client with instance refresh; `healthy(group, launch_template)` decides a batch's health."""

    def __init__(
        self,
        autoscaling: Any,
        *,
        cloudwatch: Any,
        ec2: Any,
        clock: Callable[[], float],
        healthy: Callable[[str, dict[str, Any]], bool] = lambda group, template: True,
    ) -> None:
        self._client, self._cloudwatch, self._ec2 = autoscaling, cloudwatch, ec2
        self._clock, self._healthy = clock, healthy
        self.refreshes: dict[str, list[_Refresh]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def start_instance_refresh(self, **kwargs: Any) -> dict[str, Any]:
        name = kwargs["AutoScalingGroupName"]
        group = self._client.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
        if not group:
            raise _error("ValidationError", f"AutoScalingGroup name not found - {name}")
        if any(r.status not in TERMINAL for r in self.refreshes.get(name, [])):
            raise _error("InstanceRefreshInProgress", f"An Instance Refresh is already in progress for {name}.")
        preferences = dict(kwargs.get("Preferences") or {})
        desired = dict((kwargs.get("DesiredConfiguration") or {}).get("LaunchTemplate") or {})
        previous = dict(group[0].get("LaunchTemplate") or {})
        _validate(preferences, desired, previous, self._image_of(desired))
        refresh = _Refresh(
            str(uuid.uuid4()), name, desired, previous, preferences, capacity=int(group[0]["DesiredCapacity"])
        )
        refresh.status = "InProgress"
        self.refreshes.setdefault(name, []).insert(0, refresh)
        return {"InstanceRefreshId": refresh.refresh_id}

    def describe_instance_refreshes(self, **kwargs: Any) -> dict[str, Any]:
        found = self.refreshes.get(kwargs["AutoScalingGroupName"], [])
        wanted = kwargs.get("InstanceRefreshIds")
        return {"InstanceRefreshes": [r.as_json() for r in found if not wanted or r.refresh_id in wanted]}

    def cancel_instance_refresh(self, **kwargs: Any) -> dict[str, Any]:
        refresh = self._active(kwargs["AutoScalingGroupName"])
        refresh.status, refresh.reason = "Cancelled", "cancelled by request"
        return {"InstanceRefreshId": refresh.refresh_id}

    def rollback_instance_refresh(self, **kwargs: Any) -> dict[str, Any]:
        refresh = self._active(kwargs["AutoScalingGroupName"])
        self._roll_back(refresh, "rollback requested")
        return {"InstanceRefreshId": refresh.refresh_id}

    def advance(self, group: str) -> str:
        """One step of the active refresh of `group` (a batch, a checkpoint wait, the bake); its status."""
        refresh = next((r for r in self.refreshes.get(group, []) if r.status not in TERMINAL), None)
        if refresh is None:
            return self.refreshes[group][0].status if self.refreshes.get(group) else "None"
        if refresh.status == "RollbackInProgress":
            refresh.status = "RollbackSuccessful"
            return refresh.status
        alarm = self._alarm_in_alarm(refresh)
        if alarm:
            return self._fail_or_roll_back(refresh, f"alarm {alarm} is in ALARM")
        if self._clock() < refresh.waiting_until:
            return refresh.status
        if refresh.replaced >= refresh.capacity:
            return self._finish(refresh)
        return self._replace_batch(refresh)

    def _replace_batch(self, refresh: _Refresh) -> str:
        prefs = refresh.preferences
        min_healthy = int(prefs.get("MinHealthyPercentage", 90))
        max_healthy = int(prefs.get("MaxHealthyPercentage", 100))
        keep = math.ceil(refresh.capacity * min_healthy / 100)
        extra = math.floor(refresh.capacity * (max_healthy - 100) / 100)
        batch = max(1, refresh.capacity - keep + extra)
        if not self._healthy(refresh.group, refresh.desired):
            return self._fail_or_roll_back(refresh, "replacement instances did not pass their health checks")
        refresh.replaced = min(refresh.capacity, refresh.replaced + batch)
        refresh.history.append(f"replaced {refresh.replaced}/{refresh.capacity}, in service >= {keep}")
        for point in prefs.get("CheckpointPercentages") or []:
            if refresh.percentage >= point and point not in refresh.checkpoints_passed:
                refresh.checkpoints_passed.append(point)
                refresh.waiting_until = self._clock() + int(prefs.get("CheckpointDelay", 3600))
                refresh.reason = f"Waiting for checkpoint ({point} %)"
        return refresh.status

    def _finish(self, refresh: _Refresh) -> str:
        bake = int(refresh.preferences.get("BakeTime", 0))
        if bake and not refresh.reason.startswith("Baking"):
            refresh.reason, refresh.waiting_until = "Baking", self._clock() + bake
            return refresh.status
        self._client.update_auto_scaling_group(AutoScalingGroupName=refresh.group, LaunchTemplate=refresh.desired)
        refresh.status, refresh.reason = "Successful", ""
        return refresh.status

    def _fail_or_roll_back(self, refresh: _Refresh, reason: str) -> str:
        if refresh.preferences.get("AutoRollback"):
            self._roll_back(refresh, reason)
        else:
            refresh.status, refresh.reason = "Failed", reason
        return refresh.status

    def _roll_back(self, refresh: _Refresh, reason: str) -> None:
        """The instances deployed so far are replaced with the group's previous configuration."""
        refresh.status, refresh.reason = "RollbackInProgress", reason
        refresh.replaced = 0

    def _alarm_in_alarm(self, refresh: _Refresh) -> str | None:
        names = (refresh.preferences.get("AlarmSpecification") or {}).get("Alarms") or []
        if not names:
            return None
        alarms = self._cloudwatch.describe_alarms(AlarmNames=list(names))["MetricAlarms"]
        return next((a["AlarmName"] for a in alarms if a["StateValue"] == "ALARM"), None)

    def _active(self, group: str) -> _Refresh:
        refresh = next((r for r in self.refreshes.get(group, []) if r.status not in TERMINAL), None)
        if refresh is None:
            raise _error(
                "ActiveInstanceRefreshNotFound", f"No in progress or pending Instance Refresh found for {group}"
            )
        return refresh

    def _image_of(self, desired: dict[str, Any]) -> str:
        if not desired.get("Version") or desired["Version"] in UNPINNED:
            return ""
        lookup = (
            {"LaunchTemplateId": desired["LaunchTemplateId"]}
            if "LaunchTemplateId" in desired
            else {"LaunchTemplateName": desired.get("LaunchTemplateName", "")}
        )
        versions = self._ec2.describe_launch_template_versions(**lookup, Versions=[str(desired["Version"])])
        found = versions["LaunchTemplateVersions"]
        return str(found[0]["LaunchTemplateData"].get("ImageId", "")) if found else ""


def _validate(preferences: dict[str, Any], desired: dict[str, Any], previous: dict[str, Any], image: str) -> None:
    low, high = int(preferences.get("MinHealthyPercentage", 90)), preferences.get("MaxHealthyPercentage")
    if not 0 <= low <= 100:
        raise _error("ValidationError", "MinHealthyPercentage must be between 0 and 100")
    if high is not None and (not 100 <= int(high) <= 200 or int(high) - low > 100):
        raise _error("ValidationError", "MaxHealthyPercentage must be 100-200 and at most 100 above the minimum")
    for key in ("CheckpointDelay", "BakeTime"):
        if not 0 <= int(preferences.get(key, 0)) <= 172800:
            raise _error("ValidationError", f"{key} must be between 0 and 172800")
    points = list(preferences.get("CheckpointPercentages") or [])
    if points and (points != sorted(set(points)) or not all(1 <= p <= 100 for p in points)):
        raise _error("ValidationError", "CheckpointPercentages must be ascending values from 1 to 100")
    if "CheckpointDelay" in preferences and not points:
        raise _error("ValidationError", "CheckpointDelay requires CheckpointPercentages")
    if len((preferences.get("AlarmSpecification") or {}).get("Alarms") or []) > 10:
        raise _error("ValidationError", "at most 10 alarms")
    if preferences.get("AutoRollback"):
        versions = (desired.get("Version"), previous.get("Version"))
        if not desired or any(v in UNPINNED or v is None for v in versions):
            raise _error("ValidationError", "AutoRollback needs a desired configuration with numbered versions")
        if image.startswith("resolve:ssm:"):
            raise _error("ValidationError", "AutoRollback is not supported with an SSM parameter as the image id")
