"""Retention (BAK-1 to BAK-7, ACC-4) and the audit buckets' Object Lock mode (ACC-3)."""

from __future__ import annotations

from config.errors import ErrorCollector
from config.model import Environment, Retention
from config.policy import (
    AUDIT_LOCK_MODES,
    COLD_STORAGE_MIN_DAYS,
    LOG_RETENTION_ALLOWED_DAYS,
    PRODUCTION_AUDIT_LOCK_MODE,
    RDS_AUTOMATED_BACKUP_MAX_DAYS,
    RETENTION_MINIMUMS,
    retention_minimum,
)

_BACKUP_RETENTIONS = (
    "hourly_backup_days",
    "twice_daily_backup_days",
    "ebs_snapshot_days",
    "rds_daily_backup_days",
    "monthly_archive_days",
)


def check_retention(retention: Retention, where: str, errors: ErrorCollector) -> None:
    _check_minimums(retention, where, errors)
    _check_service_limits(retention, where, errors)
    _check_vault_lock(retention, where, errors)


def _check_minimums(retention: Retention, where: str, errors: ErrorCollector) -> None:
    for name, (minimum, clause) in RETENTION_MINIMUMS.items():
        value = getattr(retention, name)
        if value < minimum:
            errors.add(f"{where}.{name}", value, f"at least {minimum} days (policy minimum)", clause)


def _check_service_limits(retention: Retention, where: str, errors: ErrorCollector) -> None:
    """What RDS, CloudWatch Logs, S3 lifecycles and AWS Backup accept."""
    if retention.rds_automated_backup_days > RDS_AUTOMATED_BACKUP_MAX_DAYS:
        errors.add(
            f"{where}.rds_automated_backup_days",
            retention.rds_automated_backup_days,
            f"{retention_minimum('rds_automated_backup_days')} to {RDS_AUTOMATED_BACKUP_MAX_DAYS} days (RDS maximum)",
            "BAK-3",
        )
    if retention.log_retention_days not in LOG_RETENTION_ALLOWED_DAYS:
        shortest = retention_minimum("log_retention_days")
        allowed = ", ".join(str(d) for d in LOG_RETENTION_ALLOWED_DAYS if d >= shortest)
        errors.add(f"{where}.log_retention_days", retention.log_retention_days, f"one of {allowed}", "BAK-7")
    if retention.log_archive_expiry_days <= retention.log_archive_transition_days:
        errors.add(
            f"{where}.log_archive_expiry_days",
            retention.log_archive_expiry_days,
            f"more than log_archive_transition_days ({retention.log_archive_transition_days})",
            "BAK-7",
        )
    cold = retention.monthly_cold_storage_after_days
    if cold < 1 or retention.monthly_archive_days < cold + COLD_STORAGE_MIN_DAYS:
        errors.add(
            f"{where}.monthly_cold_storage_after_days",
            cold,
            f"at least 1 and at most monthly_archive_days - {COLD_STORAGE_MIN_DAYS} (AWS Backup cold storage minimum)",
            "BAK-4",
        )


def _check_vault_lock(retention: Retention, where: str, errors: ErrorCollector) -> None:
    """ACC-4: the vault lock's bounds hold every backup retention."""
    shortest = min(getattr(retention, name) for name in _BACKUP_RETENTIONS)
    longest = max(getattr(retention, name) for name in _BACKUP_RETENTIONS)
    if not 1 <= retention.vault_lock_min_days <= shortest:
        errors.add(
            f"{where}.vault_lock_min_days",
            retention.vault_lock_min_days,
            f"1 to {shortest} (the shortest backup retention)",
            "ACC-4",
        )
    if retention.vault_lock_max_days < longest:
        errors.add(
            f"{where}.vault_lock_max_days",
            retention.vault_lock_max_days,
            f"at least {longest} (the longest backup retention)",
            "ACC-4",
        )


def check_audit_lock(retention: Retention, environment: Environment, where: str, errors: ErrorCollector) -> None:
    mode = retention.audit_lock_mode
    if mode not in AUDIT_LOCK_MODES:
        errors.add(f"{where}.audit_lock_mode", mode, f"one of {', '.join(AUDIT_LOCK_MODES)}", "ACC-3")
    elif environment is Environment.PRODUCTION and mode != PRODUCTION_AUDIT_LOCK_MODE:
        errors.add(
            f"{where}.audit_lock_mode",
            mode,
            f"{PRODUCTION_AUDIT_LOCK_MODE} in production (audit records nobody can delete early)",
            "ACC-3",
        )
