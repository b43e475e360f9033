"""AHV power state machine and host placement for emulated VMs.

Pure functions (no HTTP, no state): the VM routes call them inside a task
and turn :class:`InvalidVmState` / :class:`NoHostAvailable` into v4 errors.
"""

# action -> (states it is valid from, resulting state).  AHV refuses an
# action that makes no sense in the current state (powering on a running VM,
# rebooting a stopped one) instead of treating it as a no-op.
POWER_ACTIONS = {
    'power-on': (('OFF', 'PAUSED'), 'ON'),
    'power-off': (('ON', 'PAUSED'), 'OFF'),
    'shutdown': (('ON',), 'OFF'),
    'guest-shutdown': (('ON',), 'OFF'),
    'reboot': (('ON',), 'ON'),
    'guest-reboot': (('ON',), 'ON'),
    'reset': (('ON', 'PAUSED'), 'ON'),
    'power-cycle': (('ON', 'PAUSED'), 'ON'),
}

# Operation names as the v4 task service reports them.
TASK_OPERATIONS = {
    'power-on': 'kVmPowerOn',
    'power-off': 'kVmPowerOff',
    'shutdown': 'kVmAcpiShutdown',
    'guest-shutdown': 'kVmGuestShutdown',
    'reboot': 'kVmAcpiReboot',
    'guest-reboot': 'kVmGuestReboot',
    'reset': 'kVmReset',
    'power-cycle': 'kVmPowerCycle',
}


class InvalidVmState(Exception):
    """The action is not valid in the VM's current power state."""

    def __init__(self, action, state):
        self.action = action
        self.state = state
        super(InvalidVmState, self).__init__(
            "Cannot perform '%s' on a VM in power state %s" % (action, state))


class NoHostAvailable(Exception):
    """No host of the cluster has room for the VM's memory."""


def next_power_state(action, current):
    """Return the power state after ``action``; raise InvalidVmState."""
    try:
        valid_from, result = POWER_ACTIONS[action]
    except KeyError:
        raise ValueError("unknown power action %s" % action)
    if current not in valid_from:
        raise InvalidVmState(action, current)
    return result


def used_memory_by_host(vms, exclude_vm=None):
    """Memory (bytes) taken on each host by the VMs that are running there."""
    used = {}
    for vm in vms:
        if vm.get('extId') == exclude_vm:
            continue
        host = (vm.get('host') or {}).get('extId')
        if host and vm.get('powerState') in ('ON', 'PAUSED'):
            used[host] = used.get(host, 0) + int(vm.get('memorySizeBytes')
                                                 or 0)
    return used


def free_memory(host, used):
    return int(host['memoryBytes']) - used.get(host['extId'], 0)


def pick_host(hosts, vms, memory_bytes, exclude_vm=None):
    """Place a VM needing ``memory_bytes`` on the host with most free memory.

    ``hosts`` are ``{'extId', 'memoryBytes'}`` dicts of the VM's cluster;
    ``vms`` every VM (their ``host``/``powerState``/``memorySizeBytes``
    tell what is taken).  AHV's scheduler also balances on free memory.
    """
    used = used_memory_by_host(vms, exclude_vm=exclude_vm)
    candidates = [h for h in hosts
                  if free_memory(h, used) >= int(memory_bytes or 0)]
    if not candidates:
        raise NoHostAvailable(
            "No host has %d bytes of free memory" % int(memory_bytes or 0))
    candidates.sort(key=lambda h: (-free_memory(h, used), h['extId']))
    return candidates[0]['extId']


def host_has_room(host, vms, memory_bytes, exclude_vm=None):
    used = used_memory_by_host(vms, exclude_vm=exclude_vm)
    return free_memory(host, used) >= int(memory_bytes or 0)
