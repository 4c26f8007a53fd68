"""Template assertions that more than one test module makes."""

from __future__ import annotations

from aws_cdk.assertions import Match, Template


def assert_a_bucket_policy_denies_plain_http(template: Template) -> None:
    """Some bucket policy of `template` denies every request made without TLS (aws:SecureTransport false)."""
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )
