"""The $filter / $orderby subset."""

import pytest

from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import odata

ITEMS = [
    {'extId': 'a', 'name': 'alpha', 'size': 3, 'flag': True,
     'nested': {'kind': 'x'}},
    {'extId': 'b', 'name': "o'brien", 'size': 1, 'flag': False,
     'nested': {'kind': 'y'}},
    {'extId': 'c', 'name': 'alphabet', 'size': 2, 'flag': False},
]


def select(text):
    pred = odata.compile_filter(text)
    return [i['extId'] for i in ITEMS if pred(i)]


@pytest.mark.parametrize('text,expected', [
    ("name eq 'alpha'", ['a']),
    ("name ne 'alpha'", ['b', 'c']),
    ("name eq 'o''brien'", ['b']),
    ("startswith(name, 'alpha')", ['a', 'c']),
    ("contains(name, 'bet')", ['c']),
    ("extId in ('a', 'c')", ['a', 'c']),
    ("size eq 2", ['c']),
    ("flag eq true", ['a']),
    ("name eq 'alpha' or name eq 'alphabet'", ['a', 'c']),
    ("startswith(name, 'a') and flag eq false", ['c']),
    ("not (flag eq true)", ['b', 'c']),
    ("(name eq 'alpha' or size eq 1) and flag eq false", ['b']),
    ("nested/kind eq 'y'", ['b']),
    ("nested eq null", ['c']),
    ("", ['a', 'b', 'c']),
])
def test_filters(text, expected):
    assert select(text) == expected


@pytest.mark.parametrize('text', [
    "name eq", "name gt 'a'", "eq 'a'", "name eq 'a' and", "(name eq 'a'",
    "name eq 'unterminated", "startswith(name 'a')", "name eq 'a' 'b'",
    "extId in 'a'", "name ~ 'a'",
])
def test_bad_filters_are_400(text):
    with pytest.raises(errors.BadRequest):
        odata.compile_filter(text)


def test_orderby():
    assert [i['extId'] for i in odata.sort_items(ITEMS, 'size')] == \
        ['b', 'c', 'a']
    assert [i['extId'] for i in odata.sort_items(ITEMS, 'name desc')] == \
        ['b', 'c', 'a']
    # Missing values sort first, mixed types do not crash.
    mixed = [{'v': 'x'}, {'v': 1}, {}]
    assert odata.sort_items(mixed, 'v') == [{}, {'v': 1}, {'v': 'x'}]
    assert odata.sort_items(ITEMS, None) is ITEMS
    with pytest.raises(errors.BadRequest):
        odata.sort_items(ITEMS, 'name sideways')
