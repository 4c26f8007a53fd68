"""Runbook automation: boto3 clients in, dry run by default, idempotent, audited."""
