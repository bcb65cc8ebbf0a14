"""Who is using the app: the one local person, or someone signed in through OpenID Connect.

The pages read the sign-in (Streamlit's `st.user`) and hand its claims to `signed_in_person`; everything below
them gets a plain `Person` and never looks at Streamlit. A person's `owner` is what the store files their rounds
under, so it must never change for the same person and never be shared by two: OpenID Connect promises that only
of the issuer and subject taken together (`iss` + `sub`, OpenID Connect Core 1.0 section 5.7), not of an email
address, which people change and providers reassign.

Admins are named in settings (`INTERVIEWER_ADMINS`): by email address, counted only when the provider says it
verified that address, or by owner id for a provider that sends no email.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from interviewer.errors import SignInError
from interviewer.models import LOCAL_OWNER


@dataclass(frozen=True)
class Person:
    """Someone using the app: whose rounds they see, the name to greet them by, whether they run the app."""

    owner: str
    name: str
    admin: bool


LOCAL_PERSON = Person(LOCAL_OWNER, "you", admin=True)
"""Local mode: the person at the machine owns its settings, so they are its admin."""


def owner_of(claims: Mapping[str, Any]) -> str:
    """The stable id of a signed-in person: the issuer and the subject identifier it gave them."""
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not isinstance(issuer, str) or not issuer or not isinstance(subject, str) or not subject:
        raise SignInError(
            "The sign-in provider sent no issuer or subject for this account, so its rounds cannot be kept apart "
            "from other people's. Ask the administrator to check the provider's OpenID Connect settings."
        )
    return f"{issuer}#{subject}"


def signed_in_person(claims: Mapping[str, Any], admins: tuple[str, ...]) -> Person:
    """The person an OpenID Connect sign-in names; an admin when `admins` lists their owner id or verified email."""
    owner = owner_of(claims)
    email = claims.get("email") if claims.get("email_verified") is True else None
    named = {name.casefold() for name in admins}
    admin = owner.casefold() in named or (isinstance(email, str) and email.casefold() in named)
    name = claims.get("name") or claims.get("email") or claims["sub"]
    return Person(owner, str(name), admin)
