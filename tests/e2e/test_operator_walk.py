"""The operator's day of the quick start, as a test.

``quickstart.walk.Walk`` drives the real ``openstack`` CLI through image
upload and URL import, volume from image, boot from image and from volume,
a server snapshot booted again, attach/extend/detach, a consistency-group
snapshot and its copy, the servers' Neutron ports as backend NICs (same
MAC and IP) and a second interface attached and detached, then deletes
everything and checks through the Nutanix v4 API that no backend object
(VM, NIC, subnet, image, volume group, recovery point) is left behind.
"""

import pytest

from quickstart import walk


# Includes starting the stack (the session fixture), a few minutes.
@pytest.mark.timeout(1800)
def test_operator_walk(stack):
    lines = []
    day = walk.Walk(stack, say=lines.append)
    try:
        timings = day.run()
    except Exception:
        print('\n'.join(lines))
        raise
    steps = [title for title, _took in timings]
    assert steps[-1] == '7. Clean up'
    assert steps == [title for title, _method in walk.Walk.STEPS]
    # Every server's port was found as a NIC on the backend, and the
    # second interface came and went.
    text = '\n'.join(lines)
    assert text.count('-> backend VM') == 4
    assert 'detached: no NIC with MAC' in text
