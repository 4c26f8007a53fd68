"""A service's refusal inside a CloudFormation call, answered in CloudFormation's protocol.

moto's CloudFormation creates resources synchronously, inside CreateStack or ExecuteChangeSet, so a
service's error is the error of that call (AWS fails the stack, asynchronously, with the same
code). The JSON services (CodePipeline, CodeBuild) raise JSON errors that a CloudFormation client
(a query/XML protocol) cannot parse; here they become the same code and message as XML.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from moto.cloudformation.exceptions import CloudFormationError
from moto.core.exceptions import JsonRESTError


@contextmanager
def as_stack_error() -> Iterator[None]:
    try:
        yield
    except JsonRESTError as error:
        raise CloudFormationError(error.error_type, error.message) from error
