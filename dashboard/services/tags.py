"""Tags: a user's own labels on transactions (many per transaction, a table of their own).

Owner-scoped like everything else: a tag id the user does not own is never found, and the database
keeps a tag and the transactions it is on one user's (composite foreign keys on transaction_tags).
Writes flush and leave the commit to the caller.
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Tag, TransactionTag

from .errors import NotFound, ServiceError
from .validation import parse_id

NAME_MAX = 50
MAX_TAGS = 20   # tags named in one request


def check_tag_name(value) -> str:
    if value is not None and not isinstance(value, str):
        raise ServiceError("Enter a tag name.", "tags")
    name = " ".join((value or "").split()).lstrip("#")
    if not name:
        raise ServiceError("Enter a tag name.", "tags")
    if len(name) > NAME_MAX:
        raise ServiceError(f"A tag has at most {NAME_MAX} characters.", "tags")
    if "," in name:
        raise ServiceError("A tag cannot contain a comma (commas separate tags).", "tags")
    return name


def get_tag(session: Session, user_id: int, tag_id) -> Tag:
    tid = parse_id(tag_id, field="tags")
    tag = session.scalar(select(Tag).where(Tag.id == tid, Tag.user_id == user_id))
    if tag is None:
        raise NotFound("Unknown tag.", "tags")
    return tag


def tag_frame(session: Session, user_id: int) -> pd.DataFrame:
    """The user's tags with how many transactions carry each: id, name, count."""
    rows = session.execute(
        select(Tag.id, Tag.name, func.count(TransactionTag.transaction_id))
        .outerjoin(TransactionTag, (TransactionTag.tag_id == Tag.id) & (TransactionTag.user_id == user_id))
        .where(Tag.user_id == user_id).group_by(Tag.id, Tag.name).order_by(func.lower(Tag.name))).all()
    return pd.DataFrame(rows, columns=["id", "name", "count"])


def tag_choices(session: Session, user_id: int) -> list[dict]:
    return [{"label": name, "value": int(tid)} for tid, name in session.execute(
        select(Tag.id, Tag.name).where(Tag.user_id == user_id).order_by(func.lower(Tag.name)))]


def find_or_create(session: Session, user_id: int, name) -> Tag:
    """The user's tag of that name (any case), created when it does not exist yet."""
    clean = check_tag_name(name)
    tag = session.scalar(select(Tag).where(Tag.user_id == user_id, func.lower(Tag.name) == clean.lower()))
    if tag is None:
        tag = Tag(user_id=user_id, name=clean)
        session.add(tag)
        session.flush()
    return tag


def resolve_tags(session: Session, user_id: int, ids=None, new_names=None) -> list[int]:
    """Tag ids from picked ids (each checked against the user) and typed names (comma-separated
    text or a list; created inline when new)."""
    out: list[int] = []
    ids = ids if isinstance(ids, list) else ([] if ids in (None, "") else [ids])
    if isinstance(new_names, str):
        new_names = [n for n in new_names.split(",") if n.strip()]
    names = new_names if isinstance(new_names, list) else []
    if len(ids) + len(names) > MAX_TAGS:
        raise ServiceError(f"At most {MAX_TAGS} tags at once.", "tags")
    for tid in ids:
        out.append(get_tag(session, user_id, tid).id)
    for name in names:
        out.append(find_or_create(session, user_id, name).id)
    return sorted(set(out))


def rename_tag(session: Session, user_id: int, tag_id, name) -> Tag:
    tag = get_tag(session, user_id, tag_id)
    clean = check_tag_name(name)
    clash = session.scalar(select(Tag.id).where(Tag.user_id == user_id, func.lower(Tag.name) == clean.lower(),
                                                Tag.id != tag.id))
    if clash:
        raise ServiceError(f"There is already a tag “{clean}”.", "tags")
    tag.name = clean
    session.flush()
    return tag


def delete_tag(session: Session, user_id: int, tag_id) -> None:
    tag = get_tag(session, user_id, tag_id)
    session.query(TransactionTag).filter(TransactionTag.user_id == user_id, TransactionTag.tag_id == tag.id) \
        .delete(synchronize_session=False)
    session.delete(tag)
    session.flush()


def tags_by_transaction(session: Session, user_id: int, transaction_ids) -> dict[int, list[str]]:
    """Tag names per transaction, for the rows of one grid page."""
    ids = [int(i) for i in transaction_ids]
    if not ids:
        return {}
    rows = session.execute(select(TransactionTag.transaction_id, Tag.name)
                           .join(Tag, (Tag.id == TransactionTag.tag_id) & (Tag.user_id == user_id))
                           .where(TransactionTag.user_id == user_id, TransactionTag.transaction_id.in_(ids))
                           .order_by(func.lower(Tag.name))).all()
    out: dict[int, list[str]] = {}
    for tid, name in rows:
        out.setdefault(int(tid), []).append(name)
    return out
