"""RDS, Redis, S3, KMS, Secrets Manager, Logs, SNS, CloudTrail rules: compliant and non-compliant cases."""

from __future__ import annotations

from typing import Any

import pytest

from policies.rules import cloudtrail, elasticache, kms, logs, rds, s3, secretsmanager, sns
from tests.policies.rulekit import NA, C, N, check, res, stack

WINDOW = "sun:16:00-sun:19:00"
DB_OK = {
    "StorageEncrypted": True,
    "KmsKeyId": {"Ref": "Key"},
    "DBParameterGroupName": {"Ref": "Pg"},
    "ManageMasterUserPassword": True,
    "MultiAZ": True,
    "BackupRetentionPeriod": 35,
    "DeletionProtection": True,
    "PreferredMaintenanceWindow": WINDOW,
}


def _db(**changes: object) -> tuple:  # type: ignore[type-arg]
    view = stack(
        res("Db", "AWS::RDS::DBInstance", {**DB_OK, **changes}),
        res("Pg", "AWS::RDS::DBParameterGroup", {"Parameters": {"rds.force_ssl": "1"}}),
    )
    return view.resources["Db"], view


def test_rds_rules_pass_on_a_good_database() -> None:
    for r in rds.RULES:
        assert check(r, *_db()) in (C, NA), r.id


def test_rds_rules_fail_on_each_broken_promise() -> None:
    assert check(rds.rds_encrypted, *_db(StorageEncrypted=False)) is N
    assert check(rds.rds_encrypted, *_db(KmsKeyId="alias/aws/rds")) is N
    assert check(rds.rds_force_ssl, *_db(DBParameterGroupName="default.postgres16")) is N
    assert check(rds.db_credentials, *_db(ManageMasterUserPassword=None, MasterUserPassword="hunter2hunter2")) is N
    assert check(rds.rds_multi_az, *_db(MultiAZ=False)) is N
    assert check(rds.rds_retention, *_db(BackupRetentionPeriod=7)) is N
    assert check(rds.deletion_protection, *_db(DeletionProtection=False)) is N
    assert check(rds.rds_window, *_db(PreferredMaintenanceWindow="mon:01:00-mon:02:00")) is N
    assert check(rds.replica_encrypted, *_db(SourceDBInstanceIdentifier="arn", KmsKeyId=None)) is N
    assert check(rds.replica_encrypted, *_db(SourceDBInstanceIdentifier="arn")) is C


def test_db_password_from_rotated_secret() -> None:
    password = {"Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": "Secret"}, ":SecretString:password::}}"]]}
    rotated = stack(
        res("Db", "AWS::RDS::DBInstance", {"MasterUserPassword": password}),
        res("Att", "AWS::SecretsManager::SecretTargetAttachment", {"SecretId": {"Ref": "Secret"}}),
        res("Rot", "AWS::SecretsManager::RotationSchedule", {"SecretId": {"Ref": "Att"}}),
    )
    assert check(rds.db_credentials, rotated.resources["Db"], rotated) is C
    assert check(rds.db_credentials, res("Db", "AWS::RDS::DBInstance", {"MasterUserPassword": password})) is N


REDIS_OK = {
    "AtRestEncryptionEnabled": True,
    "KmsKeyId": {"Ref": "Key"},
    "TransitEncryptionEnabled": True,
    "MultiAZEnabled": True,
    "AutomaticFailoverEnabled": True,
    "NumCacheClusters": 2,
    "PreferredMaintenanceWindow": WINDOW,
    "UserGroupIds": ["g"],
}
REDIS_USERS = (
    res("G", "AWS::ElastiCache::UserGroup", {"UserGroupId": "g", "UserIds": ["app", "dflt"]}),
    res("App", "AWS::ElastiCache::User", {"UserId": "app", "UserName": "app", "AuthenticationMode": {"Type": "iam"}}),
    res("Dflt", "AWS::ElastiCache::User", {"UserId": "dflt", "UserName": "default", "AccessString": "off -@all"}),
)


def test_redis_rules() -> None:
    good = res("R", "AWS::ElastiCache::ReplicationGroup", REDIS_OK)
    for r in elasticache.RULES:
        assert check(r, good, stack(good, *REDIS_USERS)) is C, r.id
    assert (
        check(
            elasticache.redis_encrypted, res("R", "AWS::ElastiCache::ReplicationGroup", {**REDIS_OK, "KmsKeyId": None})
        )
        is N
    )
    assert (
        check(
            elasticache.redis_transit,
            res("R", "AWS::ElastiCache::ReplicationGroup", {**REDIS_OK, "TransitEncryptionMode": "preferred"}),
        )
        is N
    )
    assert (
        check(
            elasticache.redis_failover,
            res("R", "AWS::ElastiCache::ReplicationGroup", {**REDIS_OK, "NumCacheClusters": 1}),
        )
        is N
    )
    assert (
        check(
            elasticache.redis_window,
            res("R", "AWS::ElastiCache::ReplicationGroup", {**REDIS_OK, "PreferredMaintenanceWindow": "x"}),
        )
        is N
    )


KMS = {
    "ServerSideEncryptionConfiguration": [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Ref": "K"}}}
    ]
}
TLS_POLICY = {
    "Statement": [
        {
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
}


def _bucket(props: dict, policy: dict | None = TLS_POLICY, **tags: str) -> tuple:  # type: ignore[type-arg]
    all_props = {"Tags": [{"Key": k.replace("_", "-"), "Value": v} for k, v in tags.items()], **props}
    resources = [res("B", "AWS::S3::Bucket", all_props)]
    if policy:
        resources.append(res("P", "AWS::S3::BucketPolicy", {"Bucket": {"Ref": "B"}, "PolicyDocument": policy}))
    view = stack(*resources)
    return view.resources["B"], view


def test_s3_rules() -> None:
    good = {
        "BucketEncryption": KMS,
        "VersioningConfiguration": {"Status": "Enabled"},
        "LoggingConfiguration": {"DestinationBucketName": {"Ref": "L"}},
    }
    assert check(s3.s3_kms, *_bucket(good)) is C
    sse_s3 = {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    assert check(s3.s3_kms, *_bucket({"BucketEncryption": sse_s3})) is N
    assert check(s3.s3_deny_non_tls, *_bucket(good)) is C
    assert check(s3.s3_deny_non_tls, *_bucket(good, policy=None)) is N
    assert check(s3.versioning, *_bucket(good)) is C
    assert check(s3.versioning, *_bucket({"BucketEncryption": KMS})) is N
    assert check(s3.s3_access_logs, *_bucket(good)) is C
    assert check(s3.s3_access_logs, *_bucket({})) is N


def test_alb_log_bucket_may_use_sse_s3() -> None:
    elb = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::783225319266:root"},
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::b/alb/AWSLogs/1/*",
            }
        ]
    }
    sse_s3 = {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    assert check(s3.s3_kms, *_bucket({"BucketEncryption": sse_s3}, policy=elb)) is NA


@pytest.mark.parametrize(
    "principal,expected",
    [
        # Regions opened since 2022 (ap-southeast-4) deliver ALB logs as this service principal.
        pytest.param({"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}, NA, id="elb-service-principal"),
        pytest.param({"Service": "logging.s3.amazonaws.com"}, NA, id="s3-server-access-logs"),
        pytest.param({"Service": "delivery.logs.amazonaws.com"}, N, id="other-service-no-exemption"),
    ],
)
def test_enc1_s3_kms_log_delivery_principals(principal: dict[str, str], expected: object) -> None:
    policy = {"Statement": [{"Effect": "Allow", "Principal": principal, "Action": "s3:PutObject", "Resource": "x"}]}
    sse_s3 = {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    assert check(s3.s3_kms, *_bucket({"BucketEncryption": sse_s3}, policy=policy)) is expected


def test_noncurrent_retention_and_log_lifecycle() -> None:
    short = {
        "LifecycleConfiguration": {
            "Rules": [{"Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 7}}]
        }
    }
    assert check(s3.noncurrent_retention, *_bucket(short)) is N
    assert check(s3.noncurrent_retention, *_bucket({})) is C
    lifecycle = {
        "LifecycleConfiguration": {
            "Rules": [
                {
                    "Status": "Enabled",
                    "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 30}],
                    "ExpirationInDays": 2555,
                }
            ],
            "TransitionDefaultMinimumObjectSize": "varies_by_storage_class",
        }
    }
    assert check(s3.log_bucket_lifecycle, *_bucket(lifecycle, data_classification="logs")) is C
    # S3's default since Sept 2024 (all_storage_classes_128K): objects < 128 KB never move (BAK-7).
    rules: list[dict[str, Any]] = [
        {
            "Status": "Enabled",
            "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 30}],
            "ExpirationInDays": 2555,
        }
    ]
    default_size: dict[str, Any] = {"LifecycleConfiguration": {"Rules": rules}}
    assert check(s3.log_bucket_lifecycle, *_bucket(default_size, data_classification="logs")) is N
    explicit_128k = {
        "LifecycleConfiguration": {
            "Rules": rules,
            "TransitionDefaultMinimumObjectSize": "all_storage_classes_128K",
        }
    }
    assert check(s3.log_bucket_lifecycle, *_bucket(explicit_128k, data_classification="logs")) is N
    size_filter = {"LifecycleConfiguration": {"Rules": [{**rules[0], "ObjectSizeGreaterThan": 0}]}}
    assert check(s3.log_bucket_lifecycle, *_bucket(size_filter, data_classification="logs")) is C
    assert check(s3.log_bucket_lifecycle, *_bucket({}, data_classification="logs")) is N
    assert check(s3.log_bucket_lifecycle, *_bucket({})) is NA


def test_tenant_scoped_access() -> None:
    bucket = res("B", "AWS::S3::Bucket", {"Tags": [{"Key": "data-classification", "Value": "customer"}]})

    def policy(resource: object) -> object:
        doc = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}]}
        view = stack(bucket, res("P", "AWS::IAM::ManagedPolicy", {"PolicyDocument": doc}))
        return check(s3.tenant_scoped_access, view.resources["P"], view)

    scoped = {"Fn::Join": ["", [{"Fn::GetAtt": ["B", "Arn"]}, "/tenants/${aws:PrincipalTag/tenant-id}/*"]]}
    assert policy(scoped) is C
    assert policy({"Fn::Join": ["", [{"Fn::GetAtt": ["B", "Arn"]}, "/*"]]}) is N


@pytest.mark.parametrize(
    "actions,expected",
    [
        # S3 replication (DR-1) copies the whole bucket as S3 itself: not a tenant's access.
        pytest.param(["s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging"], "NA", id="replication-only"),
        pytest.param(["s3:ReplicateObject", "s3:ReplicateDelete"], "NA", id="replicate-writes"),
        pytest.param(["s3:GetObjectVersionForReplication", "s3:GetObject"], "N", id="replication-plus-read"),
    ],
)
def test_host5_replication_grants_are_not_tenant_access(actions: list[str], expected: str) -> None:
    bucket = res("B", "AWS::S3::Bucket", {"Tags": [{"Key": "data-classification", "Value": "customer"}]})
    everything = {"Fn::Join": ["", [{"Fn::GetAtt": ["B", "Arn"]}, "/*"]]}
    doc = {"Statement": [{"Effect": "Allow", "Action": actions, "Resource": everything}]}
    view = stack(bucket, res("P", "AWS::IAM::ManagedPolicy", {"PolicyDocument": doc}))
    assert check(s3.tenant_scoped_access, view.resources["P"], view) is {"NA": NA, "N": N}[expected]


def test_kms_rules() -> None:
    root = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
    }
    key = res(
        "K",
        "AWS::KMS::Key",
        {"EnableKeyRotation": True, "KeyPolicy": root, "Tags": [{"Key": "data-classification", "Value": "logs"}]},
    )
    for r in kms.RULES:
        assert check(r, key) is C, r.id
    assert check(kms.key_rotation, res("K", "AWS::KMS::Key", {"EnableKeyRotation": False})) is N
    assert check(kms.key_per_data_class, res("K", "AWS::KMS::Key")) is N
    twin = stack(key, res("K2", "AWS::KMS::Key", {"Tags": [{"Key": "data-classification", "Value": "logs"}]}))
    assert check(kms.key_per_data_class, key, twin) is N
    open_policy = {
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}]
    }
    assert check(kms.key_policy, res("K", "AWS::KMS::Key", {"KeyPolicy": open_policy})) is N
    service_star = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:*", "Resource": "*"}
        ]
    }
    assert check(kms.key_policy, res("K", "AWS::KMS::Key", {"KeyPolicy": service_star})) is N


def test_secrets_logs_sns_trail() -> None:
    secret = res("S", "AWS::SecretsManager::Secret", {"KmsKeyId": {"Ref": "K"}})
    rotated = stack(secret, res("R", "AWS::SecretsManager::RotationSchedule", {"SecretId": {"Ref": "S"}}))
    assert check(secretsmanager.secret_kms, secret) is C
    assert check(secretsmanager.secret_kms, res("S", "AWS::SecretsManager::Secret")) is N
    assert check(secretsmanager.secret_rotation, secret, rotated) is C
    assert check(secretsmanager.secret_rotation, secret) is N

    assert check(logs.log_retention, res("G", "AWS::Logs::LogGroup", {"RetentionInDays": 365})) is C
    assert check(logs.log_retention, res("G", "AWS::Logs::LogGroup")) is N
    assert check(logs.log_retention, res("G", "AWS::Logs::LogGroup", {"RetentionInDays": 7})) is N
    assert check(logs.log_group_kms, res("G", "AWS::Logs::LogGroup", {"KmsKeyId": "k"})) is C
    assert check(logs.log_group_kms, res("G", "AWS::Logs::LogGroup")) is N
    fn = res("F", "AWS::Lambda::Function", {"LoggingConfig": {"LogGroup": {"Ref": "G"}}})
    assert check(logs.lambda_log_group, fn) is C
    assert check(logs.lambda_log_group, res("F", "AWS::Lambda::Function", {})) is N

    assert check(sns.sns_kms, res("T", "AWS::SNS::Topic", {"KmsMasterKeyId": {"Ref": "K"}})) is C
    assert check(sns.sns_kms, res("T", "AWS::SNS::Topic", {"KmsMasterKeyId": "alias/aws/sns"})) is N

    trail = {"IsMultiRegionTrail": True, "EnableLogFileValidation": True, "IsLogging": True, "KMSKeyId": "k"}
    assert check(cloudtrail.trail_configuration, res("T", "AWS::CloudTrail::Trail", trail)) is C
    assert (
        check(
            cloudtrail.trail_configuration, res("T", "AWS::CloudTrail::Trail", {**trail, "IsMultiRegionTrail": False})
        )
        is N
    )
    assert check(cloudtrail.trail_kms, res("T", "AWS::CloudTrail::Trail", trail)) is C
    assert check(cloudtrail.trail_kms, res("T", "AWS::CloudTrail::Trail", {})) is N
    with_trail = stack(res("Vpc", "AWS::EC2::VPC"), res("T", "AWS::CloudTrail::Trail", trail))
    assert check(cloudtrail.trail_present, with_trail.resources["Vpc"], with_trail) is C
    assert check(cloudtrail.trail_present, res("Vpc", "AWS::EC2::VPC")) is N


def _content_bucket(name: str = "au-production-primary-content-111111111111") -> Any:
    return res(
        "Content",
        "AWS::S3::Bucket",
        {"BucketName": name, "Tags": [{"Key": "data-classification", "Value": "customer"}]},
    )


MANAGEMENT = {"Name": "m", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}


def _data_selector(*prefixes: str) -> dict[str, Any]:
    fields: list[dict[str, Any]] = [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
    ]
    if prefixes:
        fields.append({"Field": "resources.ARN", "StartsWith": list(prefixes)})
    return {"Name": "d", "FieldSelectors": fields}


def _trail(*selectors: dict[str, Any]) -> Any:
    props: dict[str, Any] = {"IsMultiRegionTrail": True, "IsLogging": True}
    if selectors:
        props["AdvancedEventSelectors"] = list(selectors)
    return res("Trail", "AWS::CloudTrail::Trail", props)


def test_customer_bucket_data_events_are_recorded() -> None:
    """ACC-3: object-level access to customer content is in CloudTrail (data events), management kept."""
    rule = cloudtrail.customer_data_events
    bucket = _content_bucket()
    own = "arn:aws:s3:::au-production-primary-content-111111111111/"
    good = stack(bucket, _trail(MANAGEMENT, _data_selector(own, "arn:aws:s3:::au-production-dr-content-1/")))
    assert check(rule, bucket, good) is C
    assert check(rule, bucket, stack(bucket, _trail(MANAGEMENT, _data_selector()))) is C  # every bucket
    # non-compliant: management events only (the default trail), another bucket, no management selector, no trail
    assert check(rule, bucket, stack(bucket, _trail())) is N
    assert check(rule, bucket, stack(bucket, _trail(MANAGEMENT, _data_selector("arn:aws:s3:::other/")))) is N
    assert check(rule, bucket, stack(bucket, _trail(_data_selector(own)))) is N
    assert check(rule, bucket, stack(bucket)) is N
    logs_bucket = res("L", "AWS::S3::Bucket", {"Tags": [{"Key": "data-classification", "Value": "logs"}]})
    assert check(rule, logs_bucket, stack(logs_bucket)) is NA


def test_redis_without_a_static_secret() -> None:
    """ENC-4: IAM-authenticated RBAC users only; an AUTH token, no user group or a password user fails."""
    rule = elasticache.redis_no_static_secret
    good = res("R", "AWS::ElastiCache::ReplicationGroup", REDIS_OK)
    assert check(rule, good, stack(good, *REDIS_USERS)) is C
    token = res("R", "AWS::ElastiCache::ReplicationGroup", {**REDIS_OK, "AuthToken": "{{resolve:secretsmanager:x}}"})
    assert check(rule, token, stack(token, *REDIS_USERS)) is N
    no_group = res("R", "AWS::ElastiCache::ReplicationGroup", {**REDIS_OK, "UserGroupIds": []})
    assert check(rule, no_group, stack(no_group)) is N
    password_user = res(
        "App", "AWS::ElastiCache::User", {"UserId": "app", "AccessString": "on ~* +@all", "Passwords": ["x" * 16]}
    )
    assert check(rule, good, stack(good, REDIS_USERS[0], password_user, REDIS_USERS[2])) is N
    enabled_default = res("Dflt", "AWS::ElastiCache::User", {"UserId": "dflt", "AccessString": "on ~* +@all"})
    assert check(rule, good, stack(good, REDIS_USERS[0], REDIS_USERS[1], enabled_default)) is N
