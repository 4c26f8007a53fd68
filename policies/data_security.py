"""`DataSecurityChecks`: the project's cdk-nag 3 pack for docs/POLICY.md.

Design (for synth speed): the rules are pure Python functions over the synthesized
templates (`policies/rules/`). When CDK calls the pack's `validate` (templates are
written before validation runs), the pack reads the whole cloud assembly from disk and
evaluates every rule on every resource in one Python pass (`policies/engine.py`).

When no rule found anything NON_COMPLIANT (every passing synth), the pack returns
cdk-nag's empty report itself: cdk-nag's walk could only call `_check_resource` once
per resource (three jsii round trips each, thousands for the whole app) to report
nothing. With a finding, cdk-nag walks the construct tree and each `_check_resource`
looks up the resource's construct path and calls `_apply_rule` for its NON_COMPLIANT
findings, so cdk-nag still owns acknowledgments (`Validations.of(c).acknowledge(...)`)
and the report format. The auditor's report reuses the evaluations (`evaluations_of`).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from cdk_nag import IApplyRule, NagMessageLevel, NagPack, NagRuleCompliance
from constructs import IConstruct

from config import PlatformConfig, load_config
from policies.engine import Evaluation, evaluate, load_assembly
from policies.rules import ALL_RULES
from policies.rules.model import PACK_NAME, Compliance, Rule

RULES_BY_ID: dict[str, Rule] = {r.id: r for r in ALL_RULES}


@jsii.implements(IApplyRule)
class _Finding:
    """One NON_COMPLIANT result, handed to cdk-nag so it applies acknowledgments and reports it."""

    def __init__(self, node: cdk.CfnResource, rule: Rule, detail: str) -> None:
        self._node = node
        self._rule = rule
        self._detail = detail

    # jsii reads interface members through class-level properties, not instance attributes.
    @property
    def node(self) -> cdk.CfnResource:
        return self._node

    @property
    def rule_suffix_override(self) -> str:
        return self._rule.suffix

    @property
    def info(self) -> str:
        return f"[{self._rule.clause}] {self._rule.info} Found: {self._detail}"

    @property
    def explanation(self) -> str:
        return self._rule.explanation

    @property
    def level(self) -> NagMessageLevel:
        return NagMessageLevel.ERROR

    def rule(self, node: cdk.CfnResource) -> NagRuleCompliance:
        return NagRuleCompliance.NON_COMPLIANT


class DataSecurityChecks(NagPack):
    """Every rule of POLICY.md's synth/both clauses; all findings are errors."""

    def __init__(self, scope: IConstruct, *, config: PlatformConfig | None = None, outdir: str | None = None) -> None:
        super().__init__(scope)
        self._pack_name = PACK_NAME
        self._scope = scope
        self._config = config
        self._outdir = outdir
        self._findings: dict[str, list[Evaluation]] | None = None
        self.evaluations: list[Evaluation] = []
        self._evaluated_outdir: Path | None = None

    @property
    def name(self) -> str:
        return PACK_NAME

    def validate(self, context: Any) -> Any:
        self._evaluated_outdir = None
        self._findings = self._load()  # a new synth: read the new assembly
        if not self._findings:
            # What cdk-nag's NagPack.validateScope returns when no rule applied a violation.
            return cdk.PolicyValidationPluginReport(success=True, violations=[])
        return super().validate(context)

    def evaluations_of(self, outdir: Path | str) -> list[Evaluation] | None:
        """This synth's evaluations of the assembly at `outdir`, or None if the pack did not evaluate it.

        The auditor's report (`policies/report.py`) reuses them instead of evaluating every
        rule a second time; None (the synth failed before validation, or another outdir)
        makes the report evaluate the assembly itself.
        """
        if self._evaluated_outdir is None or self._evaluated_outdir != Path(outdir).resolve():
            return None
        return self.evaluations

    def _load(self) -> dict[str, list[Evaluation]]:
        stage = self._scope if isinstance(self._scope, cdk.Stage) else cdk.Stage.of(self._scope)
        if self._outdir is None and stage is None:
            raise RuntimeError("DataSecurityChecks needs an App/Stage scope or an explicit outdir")
        outdir = self._outdir or stage.outdir  # type: ignore[union-attr]
        config = self._config or load_config()
        self.evaluations = evaluate(load_assembly(Path(outdir), config))
        self._evaluated_outdir = Path(outdir).resolve()
        findings: dict[str, list[Evaluation]] = defaultdict(list)
        for evaluation in self.evaluations:
            if evaluation.status is Compliance.NON_COMPLIANT:
                findings[evaluation.path].append(evaluation)
        return findings

    def _check_resource(self, node: cdk.CfnResource) -> None:
        if self._findings is None:
            self._findings = self._load()
        for evaluation in self._findings.get(node.node.path, ()):
            finding = _Finding(node, RULES_BY_ID[evaluation.rule_id], evaluation.detail)
            # IApplyRule's members are read-only properties here: jsii reads them through the class.
            self._apply_rule(finding)  # type: ignore[arg-type]
