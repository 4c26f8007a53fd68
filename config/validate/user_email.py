"""Who sends the user pool's e-mail: Cognito's own sender sends about 50 e-mails a day per account, not
enough for tenants' users, so it serves development only."""

from __future__ import annotations

import re

from config.errors import ErrorCollector
from config.model import Environment, UserEmail
from config.policy import USER_EMAIL_SENDERS

_MAILBOX = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?")


def check_user_email(email: UserEmail, environment: Environment, where: str, errors: ErrorCollector) -> None:
    if email.sender not in USER_EMAIL_SENDERS:
        errors.add(f"{where}.sender", email.sender, f"one of {', '.join(USER_EMAIL_SENDERS)}")
    elif email.sender == "cognito" and environment is not Environment.DEVELOPMENT:
        errors.add(
            f"{where}.sender",
            email.sender,
            "ses (Cognito's default sender, about 50 e-mails a day, serves development only)",
        )
    if not _MAILBOX.fullmatch(email.from_local_part):
        errors.add(f"{where}.from_local_part", email.from_local_part, "a lower-case mailbox name such as 'no-reply'")
