"""Build small StackViews from property dicts, for pure-function rule tests."""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

from config import Deployment, PlatformConfig, load_config
from policies.rules.model import Compliance, Resource, Rule, StackView


@cache
def platform() -> PlatformConfig:
    return load_config()


def deployment(name: str = "au-production", **changes: Any) -> Deployment:
    found = platform().get(name)
    return dataclasses.replace(found, **changes) if changes else found


def res(logical_id: str, type_: str, props: dict[str, Any] | None = None, **raw: Any) -> Resource:
    return Resource.from_template(logical_id, {"Type": type_, "Properties": props or {}, **raw})


def stack(*resources: Resource, name: str = "au-production", role: str = "primary", **kw: Any) -> StackView:
    d = deployment(name)
    region = d.primary_region if role == "primary" else d.dr_region
    view = StackView(
        name=f"{name}-{role}-test",
        region=kw.pop("region", region),
        account=kw.pop("account", d.account),
        resources={r.logical_id: r for r in resources},
        deployment=kw.pop("deployment", d),
        role=role,
        termination_protection=kw.pop("termination_protection", d.is_production),
        production_accounts=frozenset(x.account for x in platform().deployments if x.is_production),
        production_names=frozenset(x.name for x in platform().deployments if x.is_production),
        **kw,
    )
    view.deployment_stacks = [view]
    return view


def check(rule: Rule, resource: Resource, view: StackView | None = None) -> Compliance:
    view = view or stack(resource)
    assert rule.applies_to(resource.type), f"{rule.id} does not apply to {resource.type}"
    return rule.check(resource, view).status


C, N, NA = Compliance.COMPLIANT, Compliance.NON_COMPLIANT, Compliance.NOT_APPLICABLE


def linked(*views: StackView) -> StackView:
    """Make `views` the stacks of one deployment (each sees all of them); return the first."""
    for view in views:
        view.deployment_stacks = list(views)
    return views[0]
