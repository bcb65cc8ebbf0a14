"""Who is at the page: the one place the app reads Streamlit's sign-in (`st.user`, `st.login`, `st.logout`).

Local mode has one person, who owns the machine and its settings. Team mode asks everyone to sign in through the
OpenID Connect provider in `.streamlit/secrets.toml` ([auth], as Streamlit documents) and gives the pages a
`Person`, whose `owner` goes down to the engine and the store; nothing below the pages reads the sign-in itself.
"""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAuthError

from interviewer.errors import SignInError
from interviewer.people import LOCAL_PERSON, Person, signed_in_person
from interviewer.settings import Settings

SIGN_IN_HELP = (
    "Team mode needs an OpenID Connect provider: add an [auth] section to .streamlit/secrets.toml "
    "(redirect_uri, cookie_secret, client_id, client_secret, server_metadata_url), as docs/DEPLOYMENT.md shows."
)


def sign_in_configured() -> bool:
    """Whether Streamlit's secrets hold an [auth] section (without it `st.login` cannot work)."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all
        return False


def sign_in_screen() -> None:
    """What someone who has not signed in sees in team mode: a button to sign in, and nothing of anyone's data."""
    st.title("Inference interview coach")
    if not sign_in_configured():
        st.error(SIGN_IN_HELP, icon=":material/lock:")
        return
    st.write("Sign in to practise, and to see your own rounds.")
    if st.button("Sign in", type="primary", key="sign_in"):
        try:
            st.login()
        except StreamlitAuthError as error:  # its messages name the missing setting, never a secret's value
            st.error(f"Sign-in is not set up correctly: {error}", icon=":material/lock:")


def current_person(settings: Settings) -> Person | None:
    """The person at this page, or None in team mode before they sign in (after drawing the sign-in screen)."""
    if settings.mode == "local":
        return LOCAL_PERSON
    if not st.user.is_logged_in:
        sign_in_screen()
        return None
    try:
        return signed_in_person(st.user.to_dict(), settings.admins)
    except SignInError as error:
        st.error(str(error), icon=":material/lock:")
        sign_out_button()
        return None


def sign_out_button() -> None:
    """Sign out of the app (and of the provider, when it offers that): the next visit asks to sign in again."""
    if st.button("Sign out", key="sign_out"):
        st.logout()
        st.stop()  # the browser is leaving for the sign-out address: draw nothing more for this person


def require_admin(person: Person) -> None:
    """Stop a page that only admins may use, saying so, before it draws anything else."""
    if not person.admin:
        st.error("Only the app's administrators can use this page.", icon=":material/lock:")
        st.stop()
