"""One-time tokens (the undo of a delete): a token is usable once, even when two requests carry it
at the same moment (a double-click, a replay). Spending one inserts its digest into spent_tokens in
the caller's transaction; the primary key lets exactly one of two concurrent inserts commit (SQLite
serialises writers; PostgreSQL makes the second wait for the first and then fail), so the work done
under the token and the token's use commit together or not at all."""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import SpentToken

from .errors import ServiceError


def spend_token(session: Session, user_id: int, token: str, *, lifetime_seconds: int,
                message: str = "This has already been done.") -> None:
    """Mark ``token`` as used (flushes; does not commit; on refusal the session is rolled back). ServiceError(message) if it was used before
    or is being used by a concurrent request that committed first."""
    digest = hashlib.sha256(str(token).encode()).hexdigest()
    now = datetime.now(UTC).replace(tzinfo=None)
    session.execute(delete(SpentToken).where(SpentToken.expires_at < now))
    session.add(SpentToken(digest=digest, user_id=user_id,
                           expires_at=now + timedelta(seconds=lifetime_seconds + 60)))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()   # the failed flush leaves nothing of this transaction worth keeping
        raise ServiceError(message) from None
