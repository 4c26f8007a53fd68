"""The AWS Backup audit framework judges only what the plans select (issue 17 item 6).

A control scope is resource types, or one tag key and value, or one resource type and id
(https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ControlScope.html): the resource
controls are scoped by the `backup-tier` tag of each tier a plan selects, one framework per
tier, never by resource type (which judged the stateless web tier NON_COMPLIANT forever).
"""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Template

from tests.conftest import Stages, TemplateOf

RESOURCE_CONTROLS = {
    "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN",
    "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK",
    "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION",
    "BACKUP_LAST_RECOVERY_POINT_CREATED",
}


def _frameworks(template: Template) -> dict[str, list[dict[str, Any]]]:
    found = template.find_resources("AWS::Backup::Framework")
    return {f["Properties"]["FrameworkName"]: f["Properties"]["FrameworkControls"] for f in found.values()}


def _selected_tiers(template: Template) -> set[str]:
    selections = template.find_resources("AWS::Backup::BackupSelection").values()
    return {
        condition["ConditionValue"]
        for selection in selections
        for condition in selection["Properties"]["BackupSelection"]["ListOfTags"]
        if condition["ConditionKey"] == "backup-tier"
    }


def test_resource_controls_are_scoped_by_the_tier_tag_of_each_selected_tier(
    au_production: Stages, template_of: TemplateOf
) -> None:
    template = template_of(au_production, "primary", "Backup")
    frameworks = _frameworks(template)
    tiers = _selected_tiers(template)
    assert tiers == {"database", "compute"}
    for tier in tiers:
        controls = frameworks[f"au_production_backup_policy_{tier}"]
        assert {c["ControlName"] for c in controls} == RESOURCE_CONTROLS
        for control in controls:
            assert control["ControlScope"] == {"Tags": [{"Key": "backup-tier", "Value": tier}]}, control


def test_no_control_is_scoped_by_resource_type_or_judges_an_unselected_tier(
    au_production: Stages, template_of: TemplateOf
) -> None:
    """Tags and resource types are alternative scopes; the web tier is `stateless`, the replica `standby`."""
    template = template_of(au_production, "primary", "Backup")
    controls = [c for controls in _frameworks(template).values() for c in controls]
    scopes = [c.get("ControlScope", {}) for c in controls]
    assert all("ComplianceResourceTypes" not in scope for scope in scopes)
    assert all(len(scope.get("Tags", [])) <= 1 for scope in scopes)
    values = {tag["Value"] for scope in scopes for tag in scope.get("Tags", [])}
    assert values == _selected_tiers(template)
    unscoped = {c["ControlName"] for c in controls if "ControlScope" not in c}
    assert unscoped.isdisjoint(RESOURCE_CONTROLS)
