"""PipelineStack: one CDK pipeline per jurisdiction, deploying its environments in waves (issue 21).

`<j>-pipeline`, in the jurisdiction's tooling account and a region of its allow-list (config
`[jurisdictions.<j>.pipeline]`). What it runs, in order:

1. **Source**: the repository's branch through a CodeConnections connection of that account.
2. **Build**: the test command (`scripts/test`, JUnit into the `<j>-pipeline-tests` report group),
   then the all-pack synth of this jurisdiction only (`cdk synth -c pipeline=<j>`): any policy
   finding fails it, and `cdk.out/compliance/` travels with the cloud assembly.
3. **UpdatePipeline** (self-mutation) and **Assets**.
4. One wave per environment, development, staging, production: the jurisdiction's deployment of
   that environment (stacks/pipeline_stage.py: DR foundation, primary, DR standby). Production
   first runs the permissions-broadening check and waits for a manual approval. After each
   deployment, the post-deploy checks (tooling/post_deploy.py) run with the target account's
   read-only lookup role.

Every artifact store is a bucket of this project (stacks/pipeline_artifacts.py), in the
jurisdiction; the HOST-2 rules check the synthesized pipeline (policies/rules/pipeline.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import pipelines
from constructs import Construct, IConstruct

from config import DeliveryPipeline, Deployment, Environment, Retention
from config.topology import PRIMARY
from patterns.iam import ManagedPolicyRole
from patterns.log_retention import retention_days
from stacks.pipeline_artifacts import (
    PIPELINE_CLASSES,
    PipelineArtifacts,
    bootstrap_role_arn,
    bound_roles,
    imported_store,
    pipeline_role_name,
    stack_tags,
)
from stacks.pipeline_findings import acknowledge_pipeline_findings
from stacks.pipeline_stage import DeploymentStage

REPO = Path(__file__).resolve().parents[1]
WAVES = (Environment.DEVELOPMENT, Environment.STAGING, Environment.PRODUCTION)
TEST_REPORTS_DIR = "reports"
TEST_REPORT_FILE = "junit.xml"
# A CodePipeline stage holds at most 50 actions (CodePipeline quotas); CDK Pipelines does not split.
MAX_ACTIONS_PER_STAGE = 50


def cdk_cli_version() -> str:
    """The CLI the self-mutation and asset steps install: the one package.json pins."""
    return str(json.loads((REPO / "package.json").read_text())["devDependencies"]["aws-cdk"])


def synth_commands(pipeline: DeliveryPipeline) -> list[str]:
    return [
        f"scripts/test --junitxml={TEST_REPORTS_DIR}/{TEST_REPORT_FILE}",
        'export PATH="$PWD/.venv/bin:$PATH"',
        f"npx cdk synth --quiet -c pipeline={pipeline.jurisdiction}",
    ]


def post_deploy_commands(deployment: Deployment) -> list[str]:
    return [
        "scripts/setup.sh",
        f".venv/bin/python -m tooling.post_deploy --deployment {deployment.name} --assume-lookup-role",
    ]


class PipelineStack(cdk.Stack):
    """A jurisdiction's pipeline; `stages` are its deployments' `DeploymentStage`s, in any order."""

    def __init__(
        self,
        scope: Construct,
        *,
        pipeline: DeliveryPipeline,
        stages: Sequence[DeploymentStage],
        retention: Retention,
    ) -> None:
        super().__init__(
            scope,
            pipeline.name,
            stack_name=pipeline.name,
            env=cdk.Environment(account=pipeline.account, region=pipeline.region),
            description=f"{pipeline.name}: CDK pipeline of jurisdiction {pipeline.jurisdiction} (issue 21)",
            termination_protection=True,
            tags=stack_tags(pipeline),
        )
        bound_roles(self, pipeline)
        self.config = pipeline
        deployments = [stage.deployment for stage in stages]
        self.artifacts = PipelineArtifacts(
            self,
            "Store",
            pipeline=pipeline,
            retention=retention,
            deployments=deployments,
            data_classes=PIPELINE_CLASSES,
        )
        self.log_group = logs.LogGroup(
            self,
            "BuildLogs",
            log_group_name=f"/pipeline/{pipeline.name}",
            encryption_key=self.artifacts.key_ring.logs,
            retention=retention_days(retention.log_retention_days),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.reports = self._report_group(pipeline, retention)
        self.code_pipeline = self._code_pipeline(pipeline, deployments)
        self.source = pipelines.CodePipelineSource.connection(
            pipeline.repository, pipeline.branch, connection_arn=pipeline.connection_arn, action_name="Source"
        )
        self.delivery = self._delivery(pipeline)
        self.waves = self._add_waves(stages)
        self.delivery.build_pipeline()
        self._log_generated_functions(pipeline, retention)
        acknowledge_pipeline_findings(self, pipeline)
        self._literal_partition_in_stages()
        self._drop_dependencies_a_reference_implies()

    def _delivery(self, pipeline: DeliveryPipeline) -> pipelines.CodePipeline:
        """CDK Pipelines on our CodePipeline: self-mutation, serial assets, one action per stack (no
        change sets, so no stage reaches the 50-action limit), every build logging into `BuildLogs`."""
        return pipelines.CodePipeline(
            self,
            "Delivery",
            code_pipeline=self.code_pipeline,
            synth=self._synth_step(pipeline),
            cli_version=cdk_cli_version(),
            self_mutation=True,
            publish_assets_in_parallel=False,
            use_change_sets=False,
            code_build_defaults=pipelines.CodeBuildOptions(
                logging=codebuild.LoggingOptions(
                    cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self.log_group)
                ),
            ),
        )

    def _log_generated_functions(self, pipeline: DeliveryPipeline, retention: Retention) -> None:
        """BAK-7: the permissions-broadening check's function (CDK Pipelines') logs into a retained, encrypted group.

        With `@aws-cdk/aws-lambda:useCdkManagedLogGroup` (cdk.json) the function brings its own group,
        unencrypted and of CDK's retention; it is removed before anything reads it, so `cdk synth` and a
        flag-less synth write the same template."""
        for construct in self.node.find_all():
            if not isinstance(construct, lambda_.CfnFunction):
                continue
            construct.node.scope.node.try_remove_child("LogGroup")  # type: ignore[union-attr]
            group = logs.LogGroup(
                construct.node.scope,  # type: ignore[arg-type]
                "Logs",
                log_group_name=f"/pipeline/{pipeline.name}/{construct.node.scope.node.id}",  # type: ignore[union-attr]
                encryption_key=self.artifacts.key_ring.logs,
                retention=retention_days(retention.log_retention_days),
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            construct.logging_config = lambda_.CfnFunction.LoggingConfigProperty(log_group=group.log_group_name)

    def _literal_partition_in_stages(self) -> None:
        """cfn-lint (E3703) refuses the `Fn::Join ["", ["arn:", Ref AWS::Partition, ...]]` CDK Pipelines
        writes for the target accounts' role ARNs; every region of config/regions.py is in the `aws`
        partition, so the ARNs are rendered as literals."""
        cfn = self.code_pipeline.node.default_child
        assert isinstance(cfn, codepipeline.CfnPipeline)
        stages = _cloudformation_keys(self.resolve(cfn.stages))
        cfn.add_property_override("Stages", _with_literal_partition(stages))

    def _drop_dependencies_a_reference_implies(self) -> None:
        """cfn-lint (W3005): the pipeline and the check function depend on their role and its grants
        policy (the pipeline role's managed `Grants`, the function role's inline `DefaultPolicy`); the
        role is already read by GetAtt, so only the policy stays in DependsOn."""
        for construct in self.node.find_all():
            role: IConstruct | None
            if isinstance(construct, codepipeline.CfnPipeline):
                role = self.code_pipeline.role
            elif isinstance(construct, lambda_.CfnFunction):
                role = construct.node.scope.node.try_find_child("ServiceRole")  # type: ignore[union-attr]
            else:
                continue
            policy = None
            if role is not None:
                policy = role.node.try_find_child("Grants") or role.node.try_find_child("DefaultPolicy")
            if policy is not None:
                construct.add_override("DependsOn", [self.get_logical_id(policy.node.default_child)])  # type: ignore[arg-type]

    def _report_group(self, pipeline: DeliveryPipeline, retention: Retention) -> codebuild.ReportGroup:
        return codebuild.ReportGroup(
            self,
            "TestReports",
            report_group_name=f"{pipeline.name}-tests",
            type=codebuild.ReportGroupType.TEST,
            export_bucket=self.artifacts.bucket,
            zip_export=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _code_pipeline(self, pipeline: DeliveryPipeline, deployments: Sequence[Deployment]) -> codepipeline.Pipeline:
        role = ManagedPolicyRole(
            self,
            "PipelineRole",
            role_name=pipeline_role_name(pipeline),
            assumed_by=iam.ServicePrincipal("codepipeline.amazonaws.com"),
            description=f"{pipeline.name}: CodePipeline's role (copies artifacts, assumes the action roles)",
        )
        regions = pipeline.other_regions(deployments)
        return codepipeline.Pipeline(
            self,
            "Pipeline",
            pipeline_name=pipeline.name,
            pipeline_type=codepipeline.PipelineType.V2,
            # The pipeline's own region is in the map too: CodePipeline takes its artifact bucket from it.
            cross_region_replication_buckets={
                pipeline.region: self.artifacts.bucket,
                **{r: imported_store(self, pipeline, r) for r in regions},
            },
            role=role,
            restart_execution_on_update=True,
        )

    def _synth_step(self, pipeline: DeliveryPipeline) -> pipelines.CodeBuildStep:
        return pipelines.CodeBuildStep(
            "Synth",
            input=self.source,
            commands=synth_commands(pipeline),
            role=self._build_role("SynthRole", f"{pipeline.name}: the synth step's build (tests, then every pack)"),
            primary_output_directory="cdk.out",
            build_environment=codebuild.BuildEnvironment(build_image=codebuild.LinuxBuildImage.STANDARD_7_0),
            partial_build_spec=codebuild.BuildSpec.from_object(
                {
                    "reports": {
                        self.reports.report_group_arn: {
                            "files": [TEST_REPORT_FILE],
                            "base-directory": TEST_REPORTS_DIR,
                            "file-format": "JUNITXML",
                        }
                    }
                }
            ),
            role_policy_statements=[
                iam.PolicyStatement(
                    actions=[
                        "codebuild:CreateReport",
                        "codebuild:UpdateReport",
                        "codebuild:BatchPutTestCases",
                        "codebuild:BatchPutCodeCoverages",
                    ],
                    resources=[self.reports.report_group_arn],
                )
            ],
        )

    def _build_role(self, id: str, description: str) -> ManagedPolicyRole:
        """A CodeBuild step's role whose grants are a customer-managed policy, not CDK's inline one."""
        return ManagedPolicyRole(
            self, id, assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"), description=description
        )

    def _add_waves(self, stages: Sequence[DeploymentStage]) -> Mapping[Environment, pipelines.Wave]:
        by_environment = {stage.deployment.environment: stage for stage in stages}
        waves: dict[Environment, pipelines.Wave] = {}
        for environment in WAVES:
            stage = by_environment.get(environment)
            if stage is None:
                continue
            wave = self.delivery.add_wave(environment.value)
            wave.add_stage(stage, pre=self._pre_steps(stage), post=[self._post_deploy_step(stage)])
            waves[environment] = wave
        return waves

    def _pre_steps(self, stage: DeploymentStage) -> list[pipelines.Step]:
        if not stage.deployment.is_production:
            return []
        broadening = pipelines.ConfirmPermissionsBroadening("PermissionsBroadening", stage=stage)
        approval = pipelines.ManualApprovalStep(
            "PromoteToProduction",
            comment=f"Deploy {stage.deployment.name}: staging passed its post-deploy checks.",
        )
        approval.add_step_dependency(broadening)
        return [broadening, approval]

    def _post_deploy_step(self, stage: DeploymentStage) -> pipelines.CodeBuildStep:
        deployment = stage.deployment
        web = stage.stack(PRIMARY, "Web")
        dns = stage.stack(PRIMARY, "Dns")
        return pipelines.CodeBuildStep(
            "PostDeployChecks",
            input=self.source,
            commands=post_deploy_commands(deployment),
            role=self._build_role(
                f"PostDeployRole-{deployment.name}",
                f"{deployment.name}: post-deploy checks (assumes only lookup roles)",
            ),
            env_from_cfn_outputs={
                "PRIMARY_ALB_DNS_NAME": _output(web, "LoadBalancerDnsName"),
                "HOSTED_ZONE_ID": _output(dns, "HostedZoneId"),
            },
            role_policy_statements=[
                iam.PolicyStatement(
                    actions=["sts:AssumeRole"],
                    resources=[bootstrap_role_arn(deployment.account, r, "lookup") for r in deployment.regions],
                )
            ],
        )


def _cloudformation_keys(value: Any, *, free_form: bool = False) -> Any:
    """The L1 stage properties as CloudFormation spells them (`actionTypeId` -> `ActionTypeId`); an
    action's `configuration` is free-form JSON, already in the provider's spelling."""
    if isinstance(value, list):
        return [_cloudformation_keys(item, free_form=free_form) for item in value]
    if not isinstance(value, dict) or free_form or _is_intrinsic(value):
        return value
    return {
        key[:1].upper() + key[1:]: _cloudformation_keys(item, free_form=key == "configuration")
        for key, item in value.items()
    }


def _is_intrinsic(value: dict[str, Any]) -> bool:
    return len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref"))


def _with_literal_partition(value: Any) -> Any:
    if isinstance(value, list):
        return [_with_literal_partition(item) for item in value]
    if not isinstance(value, dict):
        return value
    join = value.get("Fn::Join")
    if len(value) == 1 and isinstance(join, list) and join[0] == "" and isinstance(join[1], list):
        parts = ["aws" if part == {"Ref": "AWS::Partition"} else part for part in join[1]]
        if all(isinstance(part, str) for part in parts):
            return "".join(parts)
    return {key: _with_literal_partition(item) for key, item in value.items()}


def _output(stack: cdk.Stack, output_id: str) -> cdk.CfnOutput:
    output = stack.node.find_child(output_id)
    assert isinstance(output, cdk.CfnOutput)
    return output
