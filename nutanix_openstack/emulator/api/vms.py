"""``/api/vmm/v4.x/ahv/config/vms``: AHV VMs, their disks, power actions,
host migration and console tokens.

Writes answer 202 with a task; request bodies are validated before the task
exists (400/404/409 right away, like the real API), and the state check is
repeated inside the task because an asynchronous task runs later.  A VM
disk's bytes live in the disk store under the disk's extId (a COW clone of
its data source); deleting the VM deletes them, while volume groups
attached to it are only detached.
"""

import datetime
import secrets

import flask

from nutanix_openstack.emulator import backend as backend_mod
from nutanix_openstack.emulator import compute_disks
from nutanix_openstack.emulator import compute_nics
from nutanix_openstack.emulator import compute_power as power
from nutanix_openstack.emulator import compute_shapes as shapes
from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import input_limits
from nutanix_openstack.emulator import responses
from nutanix_openstack.emulator import tasks as tasks_mod
from nutanix_openstack.emulator import volumes_attach
from nutanix_openstack.emulator import volumes_sources as sources

blueprint = flask.Blueprint('vms', __name__)

T = 'vmm.v4.ahv.config.'
VMS = responses.v4_path('vmm', '/ahv/config/vms')
VM = VMS + '/<ext_id>'
DISKS = VMS + '/<vm_ext_id>/disks'
DISK = DISKS + '/<ext_id>'
CONSOLE_TOKEN_LIFETIME = datetime.timedelta(minutes=5)


def _be():
    return backend_mod.get()


def _record(ext_id):
    return _be().state.require_record(sources.KIND_VM, ext_id,
                                      sources.vm_not_found)


def _invalid_state(exc):
    # AHV refuses an action that does not fit the power state with a
    # VMM error instead of ignoring it.
    return errors.Conflict(str(exc), code='VMM-30303',
                           error_group='VM_INVALID_POWER_STATE')


def _submit(operation, fn, vm_ext_id, object_type, extra=()):
    be = _be()
    task = be.tasks.submit(
        operation, fn,
        entities_affected=[(vm_ext_id, sources.REL_VM)] + list(extra))
    return responses.task_accepted(task, T + object_type)


def _cluster_hosts(state, vm):
    cluster = (vm.get('cluster') or {}).get('extId')
    return [{'extId': h['extId'], 'memoryBytes': h['memorySizeBytes']}
            for h in state.list('host')
            if (h.get('cluster') or {}).get('uuid') in (cluster, None)]


# ------------------------------------------------------------------ VMs

@blueprint.route(VMS, methods=['POST'])
def create_vm():
    be = _be()
    body = responses.json_body()
    ext_id = shapes.new_ext_id()
    cluster = shapes.ref_ext_id(body, 'cluster') or \
        be.inventory.cluster_ext_id
    if be.state.get('cluster', cluster) is None:
        raise errors.NotFound("Cluster %s not found." % cluster)
    vm, used = shapes.new_vm(body, ext_id, cluster, tasks_mod.now_iso())
    nic_specs = [compute_nics.parse(n) for n in body.get('nics') or []]
    compute_nics.check(be.state, [dict(s) for s in nic_specs])
    nic_ext_ids = [shapes.new_ext_id() for _ in nic_specs]
    plans = compute_disks.plan(be, vm, body.get('disks') or [], used)
    cdrom_plans = compute_disks.plan_cdroms(be, vm)

    def work(ctx):
        with sources.LOCK:
            created = compute_disks.build(be, vm, plans)
            try:
                created += compute_disks.build_cdroms(be, cdrom_plans)
                # One write transaction: another worker process cannot
                # take the same MAC or address in between.
                with be.state.transaction():
                    vm['nics'] = compute_nics.build(be.state, nic_specs,
                                                    nic_ext_ids)
                    be.state.put(sources.KIND_VM, ext_id, vm)
                compute_disks.attach_groups(be, ext_id, plans)
            except Exception:
                stored = be.state.get(sources.KIND_VM, ext_id)
                if stored is not None:
                    volumes_attach.forget_vm(be.state, stored)
                    be.state.delete(sources.KIND_VM, ext_id)
                sources.delete_bytes(be.disks, created)
                raise
    return _submit('kVmCreate', work, ext_id, 'CreateVmApiResponse')


@blueprint.route(VMS, methods=['GET'])
def list_vms():
    items = [shapes.render_vm(vm) for vm in _be().state.list(sources.KIND_VM)]
    return responses.listing(items, T + 'ListVmsApiResponse')


@blueprint.route(VM, methods=['GET'])
def get_vm(ext_id):
    record = _record(ext_id)
    return responses.entity(shapes.render_vm(record.body),
                            T + 'GetVmApiResponse', etag=record.etag)


@blueprint.route(VM, methods=['PUT'])
def update_vm(ext_id):
    be = _be()
    record = _record(ext_id)
    responses.check_if_match(record.etag)
    body = responses.json_body()
    shapes.validate_vm_fields(body, creating=False)

    def mutate(vm):
        old_memory = vm['memorySizeBytes']
        old_vcpus = shapes.vcpus(vm)
        shapes.apply_update(vm, body, tasks_mod.now_iso())
        if vm['powerState'] == 'OFF':
            return
        # A running VM can hot-add memory and vCPUs, not remove them, and
        # only when its host has room.
        if vm['memorySizeBytes'] < old_memory or shapes.vcpus(vm) < \
                old_vcpus:
            raise errors.Conflict(
                "Memory and vCPUs of a running VM can only be increased; "
                "power it off first.", code='VMM-30304',
                error_group='VM_HOT_UNPLUG_NOT_SUPPORTED')
        host = be.state.get('host', vm['host']['extId'])
        if not power.host_has_room(
                {'extId': host['extId'],
                 'memoryBytes': host['memorySizeBytes']},
                be.state.list(sources.KIND_VM), vm['memorySizeBytes'],
                exclude_vm=ext_id):
            raise errors.Conflict("Host %s has not enough free memory."
                                  % host['extId'], code='VMM-30305',
                                  error_group='HOST_OUT_OF_MEMORY')

    def work(ctx):
        with sources.LOCK:
            if be.state.update(sources.KIND_VM, ext_id, mutate) is None:
                raise sources.vm_not_found(ext_id)
    return _submit('kVmUpdate', work, ext_id, 'UpdateVmApiResponse')


@blueprint.route(VM, methods=['DELETE'])
def delete_vm(ext_id):
    be = _be()
    sources.check_if_match_when_sent(_record(ext_id).etag)

    def work(ctx):
        with sources.LOCK:
            with be.state.transaction():
                vm = be.state.get(sources.KIND_VM, ext_id)
                if vm is None:
                    raise sources.vm_not_found(ext_id)
                volumes_attach.forget_vm(be.state, vm)
                be.state.delete(sources.KIND_VM, ext_id)
            sources.delete_bytes(be.disks,
                                 compute_disks.owned_storage_ids(vm))
    return _submit('kVmDelete', work, ext_id, 'DeleteVmApiResponse')


# -------------------------------------------------------------- power

def _power_action(ext_id, action, object_type):
    be = _be()
    record = _record(ext_id)
    sources.check_if_match_when_sent(record.etag)
    try:
        power.next_power_state(action, record.body['powerState'])
    except power.InvalidVmState as exc:
        raise _invalid_state(exc)

    def mutate(vm):
        try:
            new_state = power.next_power_state(action, vm['powerState'])
        except power.InvalidVmState as exc:
            raise _invalid_state(exc)
        if new_state == 'ON' and not (vm.get('host') or {}).get('extId'):
            try:
                host = power.pick_host(_cluster_hosts(be.state, vm),
                                       be.state.list(sources.KIND_VM),
                                       vm['memorySizeBytes'],
                                       exclude_vm=ext_id)
            except power.NoHostAvailable as exc:
                raise errors.Conflict(str(exc), code='VMM-30305',
                                      error_group='HOST_OUT_OF_MEMORY')
            vm['host'] = {'$objectType': T + 'HostReference',
                          'extId': host}
        elif new_state == 'OFF':
            # A stopped AHV VM is not bound to a host.
            vm.pop('host', None)
        vm['powerState'] = new_state
        vm['updateTime'] = tasks_mod.now_iso()

    def work(ctx):
        with sources.LOCK:
            if be.state.update(sources.KIND_VM, ext_id, mutate) is None:
                raise sources.vm_not_found(ext_id)
    return _submit(power.TASK_OPERATIONS[action], work, ext_id, object_type)


_POWER_RESPONSES = {
    'power-on': 'PowerOnVmApiResponse',
    'power-off': 'PowerOffVmApiResponse',
    'shutdown': 'ShutdownVmApiResponse',
    'guest-shutdown': 'ShutdownVmApiResponse',
    'reboot': 'RebootVmApiResponse',
    'guest-reboot': 'RebootVmApiResponse',
    'reset': 'ResetVmApiResponse',
    'power-cycle': 'PowerCycleVmApiResponse',
}


@blueprint.route(VM + '/$actions/<action>', methods=['POST'])
def vm_action(ext_id, action):
    if action in _POWER_RESPONSES:
        return _power_action(ext_id, action, _POWER_RESPONSES[action])
    if action == 'migrate-to-host':
        return _migrate_to_host(ext_id)
    if action == 'generate-console-token':
        return _console_token(ext_id)
    raise errors.ApiError("Action %s is not supported by the emulator."
                          % action, status=404)


def _migrate_to_host(ext_id):
    be = _be()
    record = _record(ext_id)
    sources.check_if_match_when_sent(record.etag)
    body = responses.json_body()
    host_ext_id = shapes.ref_ext_id(body, 'host')
    if not host_ext_id:
        raise shapes.BadRequest("'host' is required", 'host')
    if be.state.get('host', host_ext_id) is None:
        raise errors.NotFound("Host %s not found." % host_ext_id)

    def mutate(vm):
        if vm['powerState'] != 'ON':
            raise _invalid_state(power.InvalidVmState('migrate-to-host',
                                                      vm['powerState']))
        if vm['host']['extId'] == host_ext_id:
            raise errors.BadRequest("VM %s already runs on host %s."
                                    % (ext_id, host_ext_id))
        host = be.state.get('host', host_ext_id)
        if not power.host_has_room(
                {'extId': host_ext_id,
                 'memoryBytes': host['memorySizeBytes']},
                be.state.list(sources.KIND_VM), vm['memorySizeBytes'],
                exclude_vm=ext_id):
            raise errors.Conflict("Host %s has not enough free memory."
                                  % host_ext_id, code='VMM-30305',
                                  error_group='HOST_OUT_OF_MEMORY')
        vm['host'] = {'$objectType': T + 'HostReference',
                      'extId': host_ext_id}
        vm['updateTime'] = tasks_mod.now_iso()

    if record.body['powerState'] != 'ON':
        raise _invalid_state(power.InvalidVmState(
            'migrate-to-host', record.body['powerState']))
    if record.body['host']['extId'] == host_ext_id:
        raise errors.BadRequest("VM %s already runs on host %s."
                                % (ext_id, host_ext_id))

    def work(ctx):
        with sources.LOCK:
            if be.state.update(sources.KIND_VM, ext_id, mutate) is None:
                raise sources.vm_not_found(ext_id)
    return _submit('kVmMigrate', work, ext_id, 'MigrateVmToHostApiResponse')


def _console_token(ext_id):
    _record(ext_id)
    tokens = _be().console_tokens

    # The SDK models the answer as a task; the token and its expiry are
    # in the task's completionDetails.
    def work(ctx):
        expiry = datetime.datetime.now(datetime.timezone.utc) + \
            CONSOLE_TOKEN_LIFETIME
        token = secrets.token_urlsafe(32)
        tokens.issue(token, ext_id, expiry)
        ctx.add_detail('token', token)
        ctx.add_detail('expirationTime', expiry.isoformat(
            timespec='seconds').replace('+00:00', 'Z'))
    return _submit('kVmGenerateConsoleToken', work, ext_id,
                   'GenerateConsoleTokenApiResponse')


# -------------------------------------------------------------- disks

@blueprint.route(DISKS, methods=['GET'])
def list_disks(vm_ext_id):
    vm = _record(vm_ext_id).body
    return responses.listing(vm.get('disks') or [],
                             T + 'ListDisksApiResponse')


@blueprint.route(DISK, methods=['GET'])
def get_disk(vm_ext_id, ext_id):
    record = _record(vm_ext_id)
    disk = compute_disks.find_disk(record.body, ext_id)
    return responses.entity(disk, T + 'GetDiskApiResponse',
                            etag=record.etag)


@blueprint.route(DISKS, methods=['POST'])
def create_disk(vm_ext_id):
    be = _be()
    record = _record(vm_ext_id)
    sources.check_if_match_when_sent(record.etag)
    vm = record.body
    body = responses.json_body()
    plans = compute_disks.plan(be, vm, [body],
                               shapes.used_addresses(vm))
    disk_ext_id = plans[0]['extId']

    def work(ctx):
        with sources.LOCK:
            if plans[0]['backing'] == 'volume_group':
                compute_disks.attach_groups(be, vm_ext_id, plans)
                return
            holder = {'disks': []}
            created = compute_disks.build(be, holder, plans)

            def mutate(stored):
                taken = shapes.used_addresses(stored)
                if (plans[0]['bus'], plans[0]['index']) in taken:
                    raise errors.Conflict("The disk address was taken "
                                          "meanwhile.")
                stored.setdefault('disks', []).extend(holder['disks'])
            try:
                if be.state.update(sources.KIND_VM, vm_ext_id,
                                   mutate) is None:
                    raise sources.vm_not_found(vm_ext_id)
            except Exception:
                sources.delete_bytes(be.disks, created)
                raise
    return _submit('kVmDiskCreate', work, vm_ext_id, 'CreateDiskApiResponse',
                   extra=[(disk_ext_id, sources.REL_VM_DISK)])


@blueprint.route(DISK, methods=['PUT'])
def update_disk(vm_ext_id, ext_id):
    be = _be()
    record = _record(vm_ext_id)
    responses.check_if_match(record.etag)
    disk = compute_disks.find_disk(record.body, ext_id)
    if not shapes.is_vm_disk(disk):
        raise errors.BadRequest("Only a VM disk can be updated; detach the "
                                "volume group instead.")
    body = responses.json_body()
    backing = body.get('backingInfo') or {}
    new_size = backing.get('diskSizeBytes')
    current = disk['backingInfo']['diskSizeBytes']
    if new_size is not None:
        input_limits.check_disk_size(new_size, 'backingInfo.diskSizeBytes')
        if new_size < current:
            raise errors.BadRequest(
                "A disk cannot shrink (%d -> %d bytes)." % (current,
                                                            new_size),
                code='VMM-30102', error_group='VM_DISK_SHRINK_NOT_ALLOWED')

    def work(ctx):
        with sources.LOCK:
            def mutate(vm):
                stored = compute_disks.find_disk(vm, ext_id)
                if new_size is not None and new_size > \
                        be.disks.size(ext_id):
                    be.disks.resize(ext_id, new_size)
                stored['backingInfo']['diskSizeBytes'] = be.disks.size(
                    ext_id)
                if 'storageConfig' in backing:
                    stored['backingInfo']['storageConfig'] = \
                        backing['storageConfig']
                vm['updateTime'] = tasks_mod.now_iso()
            if be.state.update(sources.KIND_VM, vm_ext_id, mutate) is None:
                raise sources.vm_not_found(vm_ext_id)
    return _submit('kVmDiskUpdate', work, vm_ext_id, 'UpdateDiskApiResponse',
                   extra=[(ext_id, sources.REL_VM_DISK)])


@blueprint.route(DISK, methods=['DELETE'])
def delete_disk(vm_ext_id, ext_id):
    be = _be()
    record = _record(vm_ext_id)
    sources.check_if_match_when_sent(record.etag)
    disk = compute_disks.find_disk(record.body, ext_id)

    def work(ctx):
        with sources.LOCK:
            if shapes.is_vg_disk(disk):
                volumes_attach.detach(
                    be.state, disk['backingInfo']['volumeGroupExtId'],
                    vm_ext_id)
                return

            def mutate(vm):
                compute_disks.find_disk(vm, ext_id)
                vm['disks'] = [d for d in vm['disks']
                               if d.get('extId') != ext_id]
            if be.state.update(sources.KIND_VM, vm_ext_id, mutate) is None:
                raise sources.vm_not_found(vm_ext_id)
            sources.delete_bytes(be.disks, [ext_id])
    return _submit('kVmDiskDelete', work, vm_ext_id, 'DeleteDiskApiResponse',
                   extra=[(ext_id, sources.REL_VM_DISK)])
