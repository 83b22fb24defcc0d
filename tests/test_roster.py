"""Tests for cases.roster: the roster-entry state machine, checked against a literal table."""

from __future__ import annotations

import itertools

import pytest

import cases.roster
from cases.roster import (
    COURT_ACTIONS,
    ROSTER_ACTION_LABELS_EN,
    ROSTER_ACTION_LABELS_ZH,
    ROSTER_STATUS_LABELS_EN,
    ROSTER_STATUS_LABELS_ZH,
    UNION_ACTIONS,
    RosterAction,
    RosterStatus,
    can_be_assigned,
    decide,
)
from tiaojie.errors import IllegalTransition, InvalidInput

# What each action does in each status; None means the action is illegal there.
ACTIONS = ("confirm", "reject", "suspend", "reinstate", "remove", "resubmit")
# fmt: off
EXPECTED: dict[str, tuple[str | None, ...]] = {
    #              confirm      reject      suspend      reinstate    remove     resubmit
    "submitted": ("confirmed", "rejected", None,        None,        None,      None),
    "confirmed": (None,        None,       "suspended", None,        "removed", None),
    "rejected":  (None,        None,       None,        None,        None,      "submitted"),
    "suspended": (None,        None,       None,        "confirmed", "removed", None),
    "removed":   (None,        None,       None,        None,        None,      "submitted"),
}
# fmt: on
REASON_REQUIRED = {"reject", "suspend", "remove"}

CROSS_PRODUCT = list(itertools.product(RosterStatus, RosterAction))
LEGAL = [
    (status, action)
    for status, action in CROSS_PRODUCT
    if EXPECTED[status.value][ACTIONS.index(action.value)] is not None
]


def test_public_names() -> None:
    assert len(set(cases.roster.__all__)) == len(cases.roster.__all__)
    assert set(cases.roster.__all__) == {
        "COURT_ACTIONS",
        "ROSTER_ACTION_LABELS_EN",
        "ROSTER_ACTION_LABELS_ZH",
        "ROSTER_STATUS_LABELS_EN",
        "ROSTER_STATUS_LABELS_ZH",
        "UNION_ACTIONS",
        "RosterAction",
        "RosterStatus",
        "can_be_assigned",
        "decide",
    }


def test_enum_values() -> None:
    assert [status.value for status in RosterStatus] == list(EXPECTED)
    assert [action.value for action in RosterAction] == list(ACTIONS)


def test_the_table_covers_the_cross_product() -> None:
    assert len(CROSS_PRODUCT) == 30
    assert all(len(row) == len(ACTIONS) for row in EXPECTED.values())
    assert len(LEGAL) == 8


@pytest.mark.parametrize(("status", "action"), CROSS_PRODUCT, ids=lambda member: str(member))
def test_decide(status: RosterStatus, action: RosterAction) -> None:
    expected = EXPECTED[status.value][ACTIONS.index(action.value)]
    if expected is None:
        with pytest.raises(IllegalTransition) as error:
            decide(status, action, reason="a reason")
        assert error.value.code == "illegal_transition"
        assert error.value.current_state == status.value
        assert error.value.event == action.value
        assert status.value in str(error.value)
        assert action.value in str(error.value)
    else:
        result = decide(status, action, reason="材料不全")
        assert result == expected
        assert isinstance(result, RosterStatus)


@pytest.mark.parametrize(
    ("status", "action"),
    [(status, action) for status, action in LEGAL if action.value in REASON_REQUIRED],
    ids=lambda member: str(member),
)
@pytest.mark.parametrize("reason", [None, "", "   ", "\n\t"])
def test_reason_required(status: RosterStatus, action: RosterAction, reason: str | None) -> None:
    with pytest.raises(InvalidInput) as error:
        decide(status, action, reason=reason)
    assert error.value.code == "reason_required"
    assert error.value.field == "reason"


@pytest.mark.parametrize(
    ("status", "action"),
    [(status, action) for status, action in LEGAL if action.value not in REASON_REQUIRED],
    ids=lambda member: str(member),
)
def test_reason_optional(status: RosterStatus, action: RosterAction) -> None:
    expected = EXPECTED[status.value][ACTIONS.index(action.value)]
    assert decide(status, action, reason=None) == expected
    assert decide(status, action, reason="") == expected


def test_an_illegal_action_is_reported_before_a_missing_reason() -> None:
    with pytest.raises(IllegalTransition):
        decide(RosterStatus.REMOVED, RosterAction.SUSPEND, reason=None)


def test_plain_strings_are_accepted() -> None:
    assert decide("submitted", "confirm", reason=None) == RosterStatus.CONFIRMED  # type: ignore[arg-type]


def test_a_full_life() -> None:
    status = RosterStatus.SUBMITTED
    for action, reason in [
        (RosterAction.REJECT, "缺少调解员培训证明"),
        (RosterAction.RESUBMIT, None),
        (RosterAction.CONFIRM, None),
        (RosterAction.SUSPEND, "涉嫌违反调解纪律，调查期间暂停"),
        (RosterAction.REINSTATE, None),
        (RosterAction.REMOVE, "调解员已退休"),
        (RosterAction.RESUBMIT, None),
        (RosterAction.CONFIRM, None),
    ]:
        status = decide(status, action, reason=reason)
    assert status == RosterStatus.CONFIRMED


def test_who_acts() -> None:
    assert {
        RosterAction.CONFIRM,
        RosterAction.REJECT,
        RosterAction.SUSPEND,
        RosterAction.REINSTATE,
        RosterAction.REMOVE,
    } == COURT_ACTIONS
    assert frozenset({RosterAction.RESUBMIT}) == UNION_ACTIONS
    assert not COURT_ACTIONS & UNION_ACTIONS
    assert set(RosterAction) == COURT_ACTIONS | UNION_ACTIONS


@pytest.mark.parametrize(
    ("status", "assignable"),
    [
        (RosterStatus.SUBMITTED, False),
        (RosterStatus.CONFIRMED, True),
        (RosterStatus.REJECTED, False),
        (RosterStatus.SUSPENDED, False),
        (RosterStatus.REMOVED, False),
    ],
)
def test_can_be_assigned(status: RosterStatus, assignable: bool) -> None:
    assert can_be_assigned(status) is assignable


def test_labels() -> None:
    assert set(ROSTER_STATUS_LABELS_ZH) == set(RosterStatus)
    assert set(ROSTER_STATUS_LABELS_EN) == set(RosterStatus)
    assert set(ROSTER_ACTION_LABELS_ZH) == set(RosterAction)
    assert set(ROSTER_ACTION_LABELS_EN) == set(RosterAction)
    assert ROSTER_STATUS_LABELS_ZH[RosterStatus.CONFIRMED] == "已确认"
    assert ROSTER_ACTION_LABELS_ZH[RosterAction.REMOVE] == "除名"
    labels = [
        *ROSTER_STATUS_LABELS_ZH.values(),
        *ROSTER_STATUS_LABELS_EN.values(),
        *ROSTER_ACTION_LABELS_ZH.values(),
        *ROSTER_ACTION_LABELS_EN.values(),
    ]
    assert all(label.strip() for label in labels)
    assert len(set(ROSTER_STATUS_LABELS_EN.values())) == len(RosterStatus)
