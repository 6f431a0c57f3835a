"""Schedules (with skipped occurrences), scenarios and dismissed suggestions in the whole-account export:
they come back in a new user, pointing at that user's own accounts, schedules and categories; restoring
twice adds nothing; an older export without them still restores; broken ones are refused."""
from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from conftest import commit_or_rollback
from sqlalchemy import select
from test_archive import alice_world, cats, export_bytes  # noqa: F401  (fixtures)

from dashboard.services import archive as ex
from dashboard.services import scenarios as scen
from dashboard.services import schedules as sched
from dashboard.services.importer import ImportFileError
from models import Category, DismissedRecurring, Scenario, Schedule, ScheduleOccurrence


@pytest.fixture()
def ahead(db_session, alice_world):  # noqa: F811
    alice, checking = alice_world["alice"], alice_world["checking"]
    pets = db_session.scalar(select(Category.id).where(Category.user_id == alice.id, Category.name == "Pets"))
    rent = sched.create_schedule(db_session, alice.id, name="Rent", payee="=Landlord", kind="expense",
                                 amount="1850", account_id=checking.id, cadence="monthly", start_date="2026-01-01",
                                 category_id=None, tags="home, =bills")
    vet = sched.create_schedule(db_session, alice.id, name="Vet plan", kind="expense", amount="19.99",
                                account_id=checking.id, rrule="FREQ=MONTHLY;BYMONTHDAY=-1",
                                start_date="2026-01-31", until="2027-01-31", category_id=pets)
    pay = sched.create_schedule(db_session, alice.id, name="Pay", kind="income", amount="5400",
                                account_id=checking.id, cadence="biweekly", start_date="2026-01-02", count=20)
    sched.set_paused(db_session, alice.id, pay.id, True)
    sched.skip_occurrence(db_session, alice.id, rent.id, "2026-04-01")
    scen.create_scenario(db_session, alice.id, name="Move", items=[
        {"type": "change_schedule", "schedule_id": rent.id, "amount": "-2200", "from": "2026-09-01"},
        {"type": "one_off", "label": "Deposit", "date": "2026-08-15", "amount": "-3000", "account_id": checking.id},
        {"type": "budget", "category_id": pets, "amount": "50"},
        {"type": "remove_schedule", "schedule_id": vet.id}])
    db_session.add(DismissedRecurring(user_id=alice.id, key="tea house|-1|*"))
    db_session.commit()
    return alice


def _portable(session, user_id):
    names = {s.id: s.name for s in session.scalars(select(Schedule).where(Schedule.user_id == user_id))}
    cats_ = {c.id: c.name for c in session.scalars(select(Category))}
    schedules = sorted((s.name, s.payee, s.kind, str(s.amount), s.rrule, s.start_date, s.until, s.count, s.paused,
                        cats_.get(s.category_id)) for s in session.scalars(
        select(Schedule).where(Schedule.user_id == user_id)))
    skips = sorted((names[o.schedule_id], o.occurs_on) for o in session.scalars(
        select(ScheduleOccurrence).where(ScheduleOccurrence.user_id == user_id)))
    scenarios = []
    for s in session.scalars(select(Scenario).where(Scenario.user_id == user_id)):
        items = []
        for item in s.items:
            item = dict(item)
            if "schedule_id" in item:
                item["schedule_id"] = names[item["schedule_id"]]
            if "category_id" in item:
                item["category_id"] = cats_[item["category_id"]]
            if item.get("account_id") is not None:
                item["account_id"] = "an account"
            items.append(item)
        scenarios.append((s.name, items))
    dismissed = sorted(session.scalars(select(DismissedRecurring.key).where(DismissedRecurring.user_id == user_id)))
    tags = sorted((names[sid], sorted(t)) for sid, t in sched.tags_by_schedule(session, user_id).items())
    return schedules, skips, scenarios, dismissed, tags


def test_schedules_and_scenarios_round_trip_into_a_new_user(db_session, ahead, make_user):
    data = export_bytes(db_session, ahead.id)
    bob = make_user("bob@example.com")
    result = commit_or_rollback(db_session, ex.restore_archive, bob.id, ex.read_archive(data))
    assert (result.added["schedules"], result.added["scenarios"]) == (3, 1)
    assert _portable(db_session, bob.id) == _portable(db_session, ahead.id)
    assert _portable(db_session, bob.id)[-1] == [("Rent", ["=bills", "home"])]
    # Bob's scenario points at Bob's schedules and accounts, never Alice's.
    bob_items = db_session.scalar(select(Scenario.items).where(Scenario.user_id == bob.id))
    bob_schedules = set(db_session.scalars(select(Schedule.id).where(Schedule.user_id == bob.id)))
    assert {i["schedule_id"] for i in bob_items if "schedule_id" in i} <= bob_schedules
    again = commit_or_rollback(db_session, ex.restore_archive, bob.id, ex.read_archive(data))
    assert again.added["schedules"] == again.added["scenarios"] == 0


def _rewrite(data: bytes, name: str, text: str | None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename == name:
                if text is not None:
                    dst.writestr(name, text)
            else:
                dst.writestr(info.filename, src.read(info.filename))
    return out.getvalue()


def test_an_export_from_before_schedules_still_restores(db_session, ahead, make_user):
    data = export_bytes(db_session, ahead.id)
    for name in ex.OPTIONAL_MEMBERS:
        data = _rewrite(data, name, None)
    bob = make_user("bob@example.com")
    result = commit_or_rollback(db_session, ex.restore_archive, bob.id, ex.read_archive(data))
    assert result.added["transactions"] > 0 and result.added["schedules"] == 0


HEADER = "ref,name,payee,kind,amount,account_ref,category_ref,category,rrule,start_date,until,count,paused\n"


@pytest.mark.parametrize("member, text, words", [
    ("schedules.csv", HEADER + "1,Rent,,expense,-10.00,{acc},,,FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30,2026-01-01,,,0\n",
     "never happens"),
    ("schedules.csv", HEADER + "1,Rent,,expense,-10.00,{acc},,,FREQ=MONTHLY,9999-01-01,,,0\n", "between 1900"),
    ("schedules.csv", HEADER + "1,Rent,,expense,1e308,{acc},,,FREQ=MONTHLY,2026-01-01,,,0\n", "amount"),
    ("schedules.csv", HEADER + "1,Rent,,expense,-10.00,999999,,,FREQ=MONTHLY,2026-01-01,,,0\n", "not in accounts"),
    ("scenarios.csv", "name,items\nX,not json\n", "not valid JSON"),
    ("scenarios.csv", 'name,items\nX,"[{""type"": ""remove_schedule"", ""schedule_ref"": ""77""}]"\n',
     "not in schedules.csv"),
    ("schedule_skips.csv", "schedule_ref,occurs_on\n5,2026-01-01\n", "not in schedules.csv"),
    ("schedule_tags.csv", "schedule_ref,tag\n999999,home\n", "not in schedules.csv"),
    ("schedule_tags.csv", "schedule_ref,tag\n{sched},a" + "x" * 60 + "\n", "at most 50"),
])
def test_broken_schedule_members_are_refused(db_session, ahead, make_user, member, text, words):
    data = export_bytes(db_session, ahead.id)
    acc = zipfile.ZipFile(io.BytesIO(data)).read("accounts.csv").decode().splitlines()[1].split(",")[0]
    sched_ref = zipfile.ZipFile(io.BytesIO(data)).read("schedules.csv").decode().splitlines()[1].split(",")[0]
    if member not in ("schedules.csv", "schedule_tags.csv"):
        # Only the member under test is broken: no schedules, skips or scenarios besides it.
        for name, header in (("schedules.csv", HEADER), ("schedule_skips.csv", "schedule_ref,occurs_on\n"),
                             ("scenarios.csv", "name,items\n"), ("schedule_tags.csv", "schedule_ref,tag\n")):
            data = _rewrite(data, name, header)
    data = _rewrite(data, member, text.replace("{acc}", acc).replace("{sched}", sched_ref))
    with pytest.raises(ImportFileError) as err:
        ex.read_archive(data)
    assert words in err.value.message


def test_a_scenario_item_that_does_not_hold_is_refused_at_restore(db_session, ahead, make_user):
    data = export_bytes(db_session, ahead.id)
    data = _rewrite(data, "scenarios.csv", 'name,items\nX,"[{""type"": ""one_off"", ""date"": ""9999-01-01"", '
                                           '""amount"": ""-1""}]"\n')
    bob = make_user("bob@example.com")
    with pytest.raises(ImportFileError) as err:
        commit_or_rollback(db_session, ex.restore_archive, bob.id, ex.read_archive(data))
    assert "scenarios.csv" in err.value.message and "between 1900" in err.value.message
    db_session.rollback()
    assert db_session.scalar(select(Schedule.id).where(Schedule.user_id == bob.id)) is None
    assert date(2026, 1, 1)
