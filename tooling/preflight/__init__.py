"""Read-only checks of a real AWS account before bootstrapping or deploying (issue "Real-AWS readiness").

    python -m tooling.preflight --deployment au-production --profile au-production-admin

Every check returns ok | warn | fail with a message and the remedy (an exact command where
there is one); the runner prints a table and exits non-zero on any fail. Nothing here
writes to the account. Clients come from a `ClientFactory(service, region)`, so tests pass
moto clients (or a fake `account` client: moto 5.2.5 answers GetRegionOptStatus with 404).

One module per concern, this package's names are the ones the tooling and tests use:
`results` (the vocabulary), `assembly` (what the synthesized assembly requires), `account`
(opt-in, session document, Config recorder, bootstrap, delegation, e-mail), `versions`,
`quotas`, `offerings`, `orphans`, and `runner` (every check, the table, the command line).
"""

from tooling.preflight.account import (
    check_bootstrap,
    check_config_recorder,
    check_delegation,
    check_region_opt_in,
    check_session_document,
    check_user_email,
)
from tooling.preflight.assembly import (
    GENERATED_NAME_KEPT_TYPES,
    NAME_PROPERTIES,
    TAGGED_KEPT_TYPES,
    lambda_functions,
    named_resources,
    options_from_assembly,
    required_bootstrap_version,
)
from tooling.preflight.offerings import check_cache_node_type, check_instance_type_offerings
from tooling.preflight.orphans import check_orphans
from tooling.preflight.quotas import check_ec2_vcpu_quota, check_lambda_concurrency_quota
from tooling.preflight.results import (
    AWS_ERRORS,
    CheckResult,
    ClientFactory,
    NamedResource,
    NameServerLookup,
    PreflightOptions,
    Status,
)
from tooling.preflight.runner import default_lookup_ns, failed, main, render_table, run_preflight, session_clients
from tooling.preflight.versions import (
    check_cache_engine_version,
    check_canary_runtime,
    check_db_engine_version,
    check_db_instance_class,
)

__all__ = [
    "AWS_ERRORS",
    "GENERATED_NAME_KEPT_TYPES",
    "NAME_PROPERTIES",
    "TAGGED_KEPT_TYPES",
    "CheckResult",
    "ClientFactory",
    "NameServerLookup",
    "NamedResource",
    "PreflightOptions",
    "Status",
    "check_bootstrap",
    "check_cache_engine_version",
    "check_cache_node_type",
    "check_canary_runtime",
    "check_config_recorder",
    "check_db_engine_version",
    "check_db_instance_class",
    "check_delegation",
    "check_ec2_vcpu_quota",
    "check_instance_type_offerings",
    "check_lambda_concurrency_quota",
    "check_orphans",
    "check_region_opt_in",
    "check_session_document",
    "check_user_email",
    "default_lookup_ns",
    "failed",
    "lambda_functions",
    "main",
    "named_resources",
    "options_from_assembly",
    "render_table",
    "required_bootstrap_version",
    "run_preflight",
    "session_clients",
]
