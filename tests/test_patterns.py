"""services.patterns: user regular expressions run on RE2 (linear time), never on Python's re.

Issue 13 item 1: patterns with nested repeats took exponential time with ``re`` (25 s for 26 letters);
they must be accepted and answer at once, because the engine cannot backtrack."""
from __future__ import annotations

import re
import threading

import pytest

from dashboard.services import importer as imp
from dashboard.services import patterns
from dashboard.services.errors import ServiceError

# Shapes that escaped the old nested-repeat blacklist, and the classic ones.
EXPONENTIAL = [("((a+))+$", False), ("(a?){25}a{25}", True), (".*.*.*.*.*x", False), ("(a+){12}b", False),
               ("(a+)+$", False), ("(a|aa)*b", False), ("(x+x+)+y", False)]


def _finishes(fn, seconds: float = 60.0):
    """Run fn in a thread and give its result; a hang (what ``re`` does on these inputs: minutes to
    centuries) fails the test instead of freezing the run. This guards against a hang, it does not
    measure speed."""
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault("value", fn()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "the match did not finish: backtracking engine?"
    return out["value"]


@pytest.mark.parametrize("pattern, found", EXPONENTIAL)
def test_catastrophic_patterns_are_accepted_and_match_in_linear_time(pattern, found):
    assert patterns.check_pattern(pattern) == pattern
    subject = "a" * 900 + "!"     # ``re`` would need about 2**900 steps for most of these
    assert _finishes(lambda: patterns.pattern_matches(pattern, subject)) is found


def test_importer_rules_never_reach_python_re(monkeypatch):
    """compile_rules and check_pattern go through RE2 only: plain re never sees a user pattern."""
    seen = []
    real_compile = re.compile

    def spy(pattern, *args, **kwargs):
        seen.append(pattern)
        return real_compile(pattern, *args, **kwargs)

    monkeypatch.setattr(re, "compile", spy)
    user_pattern = "((u+))+ser-only$"
    assert imp.check_pattern(user_pattern, "regex") == user_pattern
    compiled = imp.compile_rules([imp.Rule(1, user_pattern, "regex", 7)])
    assert imp.match_rules(compiled, "u" * 3000 + "!") is None
    assert imp.match_rules(compiled, "UUSER-ONLY").id == 1
    assert user_pattern not in seen


def test_rule_matching_a_long_payee_ends(db_session):
    compiled = imp.compile_rules([imp.Rule(1, "((a+))+$", "regex", 1), imp.Rule(2, "bottle", "contains", 2)])
    assert _finishes(lambda: imp.match_rules(compiled, "a" * 26 + "!")) is None
    assert imp.match_rules(compiled, "BLUE BOTTLE").id == 2


@pytest.mark.parametrize("pattern, words", [
    ("", "Enter"), ("x" * 201, "200"), ("(unclosed", "Not a valid pattern"), (r"(a)\1", "Back-references"),
    ("(?P<n>a)(?P=n)", "Back-references"), ("(?=a)b", "Look-arounds"), ("(?!a)b", "Look-arounds"),
    ("(?<=a)b", "Look-arounds"), ("a{1001}", "repe"), ("((a{1000}){1000}){1000}", "Not a valid pattern"),
    ("a\x00b", "NUL"),
])
def test_unusable_patterns_get_a_clear_message(pattern, words):
    with pytest.raises(patterns.PatternError, match=re.escape(words)) as info:
        patterns.compile_pattern(pattern)
    assert isinstance(info.value, ServiceError) and info.value.field == "pattern"


def test_matching_is_case_insensitive_unicode_and_unanchored():
    assert patterns.pattern_matches("CAFÉ", "le café du coin")
    assert patterns.pattern_matches(r"^uber\s*(eats)?", "UBER EATS 123")
    assert not patterns.pattern_matches(r"^eats", "UBER EATS")
    assert patterns.compile_pattern("  x+ ").text == "x+"
