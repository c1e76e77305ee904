"""Creating accounts and reference records: each one published in the feed for devices."""

from __future__ import annotations

from sqlalchemy import select

from server.accounts.passwords import hash_password
from server.extensions import db
from server.models import Town, User
from server.schemas.towns import UserDataSchema
from server.sync.feed import FeedWriter, publish_reference
from server.sync.unit_of_work import feed_write_unit, write_unit

ROLES_WITH_TOWN = ("worker", "supervisor")


class AccountError(ValueError):
    """A refused account: `code` says why (the console words it in the admin's language, see
    server.web.console.admin.ACCOUNT_REFUSALS), the message says it in English for the command
    line."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def town_refusal(role: str, town: str | None) -> str | None:
    """The one rule on home towns, for the command line and the console alike: workers and
    supervisors belong to one town; admins and integration accounts to none.

    An admin sees every town and an integration account its scope towns, whatever a home
    town would say (server.domain.visibility.scope_for ignores it), so a town on their
    account would only mislead. Returns the refusal's code, or None.
    """
    if role in ROLES_WITH_TOWN and town is None:
        return "town_required"
    if role not in ROLES_WITH_TOWN and town is not None:
        return "town_not_allowed"
    return None


def create_user(
    username: str,
    password: str,
    role: str,
    town: str | None,
    display_name: str,
    scope_towns: list[str] | None = None,
) -> User:
    """Create and publish a user in its own unit of work.

    :raises AccountError: unknown town, missing town for a worker or supervisor, a town
        for an admin or integration account, a taken username, or a password shorter than
        8 characters.
    """
    with feed_write_unit(db.session) as unit:
        user = add_user(unit.writer, username, password, role, town, display_name, scope_towns)
    return user


def add_user(
    writer: FeedWriter,
    username: str,
    password: str,
    role: str,
    town: str | None,
    display_name: str,
    scope_towns: list[str] | None = None,
) -> User:
    """Add a user inside the caller's unit of work."""
    towns = set(db.session.scalars(select(Town.code)).all())
    refusal = town_refusal(role, town)
    if refusal == "town_required":
        raise AccountError(refusal, f"a {role} needs --town")
    if refusal == "town_not_allowed":
        raise AccountError(refusal, f"an {role} account has no home town: leave out --town")
    if town is not None and town not in towns:
        raise AccountError(
            "unknown_town", f"unknown town {town!r}; known: {', '.join(sorted(towns))}"
        )
    if any(code not in towns for code in scope_towns or []):
        raise AccountError("unknown_scope_town", "unknown town in --scope-town")
    if len(password) < 8:
        raise AccountError("password_short", "the password must have at least 8 characters")
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise AccountError("username_taken", f"username {username!r} is taken")
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        town_code=town,
        scope_towns=scope_towns if role == "integration" else None,
        password_hash=hash_password(password),
        is_active=True,
    )
    db.session.add(user)
    db.session.flush()
    publish_reference(writer, "user", user.id, UserDataSchema().dump(user), is_new=True)
    return user


def revoke_device(device_id: str) -> bool:
    """Revoke a lost phone: its next request gets 401 device_revoked. False if unknown.

    Its own unit of work: what the caller read before is rolled back first.
    """
    from server.accounts.device_keys import drop_device_keys
    from server.models import Device
    from server.models.base import utcnow

    with write_unit(db.session, end_read=True) as unit:
        device = db.session.get(Device, device_id)
        if device is None:
            unit.discard()
            return False
        device.is_revoked = True
        device.revoked_at = utcnow()
        drop_device_keys(device_id)  # the phone's escrowed data key can no longer be unwrapped
    return True


def end_device_tokens(user_id: str) -> int:
    """End every device token of a person, inside the caller's unit of work: after a password
    reset, a deactivation, or a change of role or town, each phone gets 401 token_expired (or
    account_disabled while the account is off) and asks for the password again. The phones
    keep their data and their device ids. Returns how many tokens ended."""
    from sqlalchemy import update

    from server.models import Device
    from server.models.base import utcnow

    result = db.session.execute(
        update(Device)
        .where(
            Device.user_id == user_id,
            Device.token_hash.is_not(None),
            Device.token_ended_at.is_(None),
        )
        .values(token_ended_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def end_device_token(device_id: str) -> bool:
    """End one phone's sign-in (the console's "end sign-in"): its next request gets 401
    token_expired and the phone asks for the password, keeping its data. Unlike
    revoke_device (a lost phone), the same person can sign in on it again. False if the
    device is unknown; ending an ended or signed-out token changes nothing."""
    from sqlalchemy import update

    from server.models import Device
    from server.models.base import utcnow

    with write_unit(db.session, end_read=True) as unit:
        if db.session.get(Device, device_id) is None:
            unit.discard()
            return False
        db.session.execute(
            update(Device)
            .where(
                Device.id == device_id,
                Device.token_hash.is_not(None),
                Device.token_ended_at.is_(None),
            )
            .values(token_ended_at=utcnow())
        )
    return True


def create_token(username: str, name: str) -> tuple[str, str]:
    """A device and token for a headless integration account; the token is shown once.

    :raises AccountError: unknown user or not an integration account.
    """
    import uuid

    from server.accounts.passwords import new_token, token_hash
    from server.models import Device
    from server.models.base import utcnow

    with write_unit(db.session):
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None or user.role != "integration":
            raise AccountError("not_integration", f"{username!r} is not an integration account")
        token = new_token()
        device = Device(
            id=str(uuid.uuid4()),
            user_id=user.id,
            name=name,
            platform="job",
            token_hash=token_hash(token),
            token_issued_at=utcnow(),
        )
        db.session.add(device)
    return device.id, token
