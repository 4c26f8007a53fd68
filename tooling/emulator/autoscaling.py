"""Auto Scaling: the desired capacity stays within the group's bounds, as AWS enforces."""

from __future__ import annotations

from typing import Any

from moto.autoscaling.exceptions import ValidationError
from moto.autoscaling.models import AutoScalingBackend

from tooling.emulator.patch import Patch

_set_desired_capacity = AutoScalingBackend.set_desired_capacity
_update_auto_scaling_group = AutoScalingBackend.update_auto_scaling_group


def set_desired_capacity_within_bounds(self: AutoScalingBackend, group_name: str, desired_capacity: int | None) -> None:
    group: Any = self.autoscaling_groups.get(group_name)
    if group is not None and desired_capacity is not None:
        if desired_capacity > group.max_size:
            raise ValidationError(
                f"New SetDesiredCapacity value {desired_capacity} is above max value {group.max_size} "
                "for the AutoScalingGroup."
            )
        if desired_capacity < group.min_size:
            raise ValidationError(
                f"New SetDesiredCapacity value {desired_capacity} is below min value {group.min_size} "
                "for the AutoScalingGroup."
            )
    _set_desired_capacity(self, group_name, desired_capacity)


def update_auto_scaling_group_within_bounds(self: AutoScalingBackend, name: str, *args: Any, **kwargs: Any) -> Any:
    group: Any = self.autoscaling_groups.get(name)
    if group is not None:
        desired = kwargs.get("desired_capacity")
        low: int = kwargs["min_size"] if kwargs.get("min_size") is not None else group.min_size
        high: int = kwargs["max_size"] if kwargs.get("max_size") is not None else group.max_size
        if desired is not None and not low <= int(desired) <= high:
            raise ValidationError(
                f"Desired capacity:{desired} must be between the specified min size:{low} and max size:{high}"
            )
        if low > high:
            raise ValidationError(f"Max bound, {high}, must be greater than or equal to min bound, {low}")
    return _update_auto_scaling_group(self, name, *args, **kwargs)


def _apply() -> None:
    AutoScalingBackend.set_desired_capacity = set_desired_capacity_within_bounds  # type: ignore[method-assign]
    AutoScalingBackend.update_auto_scaling_group = update_auto_scaling_group_within_bounds  # type: ignore[method-assign]


PATCHES = [
    Patch(
        "autoscaling",
        "desired-capacity-within-bounds",
        "SetDesiredCapacity/UpdateAutoScalingGroup accept a desired capacity outside MinSize..MaxSize",
        _apply,
    ),
]
