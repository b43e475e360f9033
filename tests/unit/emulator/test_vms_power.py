"""Unit tests of the AHV power state machine and host placement."""

import testtools

from nutanix_openstack.emulator import compute_power as power

GiB = 1024 ** 3
HOSTS = [{'extId': 'h1', 'memoryBytes': 16 * GiB},
         {'extId': 'h2', 'memoryBytes': 8 * GiB}]


def running(ext_id, host, memory):
    return {'extId': ext_id, 'host': {'extId': host}, 'powerState': 'ON',
            'memorySizeBytes': memory}


class TestPowerStateMachine(testtools.TestCase):

    def test_transitions(self):
        expected = {
            ('power-on', 'OFF'): 'ON', ('power-on', 'PAUSED'): 'ON',
            ('power-off', 'ON'): 'OFF', ('shutdown', 'ON'): 'OFF',
            ('guest-shutdown', 'ON'): 'OFF', ('reboot', 'ON'): 'ON',
            ('guest-reboot', 'ON'): 'ON', ('reset', 'ON'): 'ON',
            ('power-cycle', 'ON'): 'ON',
        }
        for (action, state), result in expected.items():
            self.assertEqual(result, power.next_power_state(action, state))

    def test_wrong_state_is_refused(self):
        for action, state in (('power-on', 'ON'), ('power-off', 'OFF'),
                              ('shutdown', 'OFF'), ('reboot', 'OFF'),
                              ('guest-reboot', 'PAUSED'), ('reset', 'OFF'),
                              ('power-cycle', 'OFF')):
            exc = self.assertRaises(power.InvalidVmState,
                                    power.next_power_state, action, state)
            self.assertEqual((action, state), (exc.action, exc.state))

    def test_unknown_action(self):
        self.assertRaises(ValueError, power.next_power_state, 'hibernate',
                          'ON')

    def test_every_action_has_a_task_operation(self):
        self.assertEqual(set(power.POWER_ACTIONS),
                         set(power.TASK_OPERATIONS))


class TestPlacement(testtools.TestCase):

    def test_most_free_memory_wins(self):
        self.assertEqual('h1', power.pick_host(HOSTS, [], 4 * GiB))
        vms = [running('a', 'h1', 12 * GiB)]
        self.assertEqual('h2', power.pick_host(HOSTS, vms, 4 * GiB))

    def test_stopped_vms_take_no_memory(self):
        vms = [dict(running('a', 'h1', 16 * GiB), powerState='OFF')]
        self.assertEqual('h1', power.pick_host(HOSTS, vms, 16 * GiB))

    def test_no_room(self):
        vms = [running('a', 'h1', 10 * GiB), running('b', 'h2', 4 * GiB)]
        self.assertRaises(power.NoHostAvailable, power.pick_host, HOSTS,
                          vms, 8 * GiB)
        # The VM being placed does not count against itself.
        self.assertEqual('h1', power.pick_host(HOSTS, vms, 16 * GiB,
                                               exclude_vm='a'))

    def test_host_has_room(self):
        vms = [running('a', 'h2', 6 * GiB)]
        self.assertFalse(power.host_has_room(HOSTS[1], vms, 4 * GiB))
        self.assertTrue(power.host_has_room(HOSTS[1], vms, 2 * GiB))
        self.assertTrue(power.host_has_room(HOSTS[1], vms, 8 * GiB,
                                            exclude_vm='a'))
