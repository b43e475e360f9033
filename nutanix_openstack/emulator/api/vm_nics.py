"""``/api/vmm/v4.x/ahv/config/vms/{vmExtId}/nics``: a VM's NICs.

Create, get, list, update and delete, as the SDK's ``VmApi`` calls them
(``create_nic``, ``get_nic_by_id``, ``list_nics_by_vm_id``,
``update_nic_by_id``, ``delete_nic_by_id``).  NICs are stored inside the
VM, so the VM's ETag guards them (like its disks); the MAC and IP rules
are those of :mod:`compute_nics`.  A NIC may be added to or removed from a
running VM (AHV hot-plugs virtio NICs).
"""

import flask

from nutanix_openstack.emulator import backend as backend_mod
from nutanix_openstack.emulator import compute_nics as nics
from nutanix_openstack.emulator import compute_shapes
from nutanix_openstack.emulator import responses
from nutanix_openstack.emulator import tasks as tasks_mod
from nutanix_openstack.emulator import volumes_sources as sources

blueprint = flask.Blueprint('vm_nics', __name__)

T = 'vmm.v4.ahv.config.'
NICS = responses.v4_path('vmm', '/ahv/config/vms/<vm_ext_id>/nics')
NIC = NICS + '/<ext_id>'


def _be():
    return backend_mod.get()


def _record(vm_ext_id):
    return _be().state.require_record(sources.KIND_VM, vm_ext_id,
                                      sources.vm_not_found)


def _submit(operation, fn, vm_ext_id, nic_ext_id, object_type):
    task = _be().tasks.submit(
        operation, fn, entities_affected=[(vm_ext_id, sources.REL_VM),
                                          (nic_ext_id, nics.REL_VM_NIC)])
    return responses.task_accepted(task, T + object_type)


def _update_vm(be, vm_ext_id, mutate):
    # Runs in the task, maybe in another thread: no Flask context there.
    def wrapped(vm):
        mutate(vm)
        vm['updateTime'] = tasks_mod.now_iso()
    with sources.LOCK:
        if be.state.update(sources.KIND_VM, vm_ext_id, wrapped) is None:
            raise sources.vm_not_found(vm_ext_id)


@blueprint.route(NICS, methods=['GET'])
def list_nics(vm_ext_id):
    vm = _record(vm_ext_id).body
    return responses.listing(vm.get('nics') or [], T + 'ListNicsApiResponse')


@blueprint.route(NIC, methods=['GET'])
def get_nic(vm_ext_id, ext_id):
    record = _record(vm_ext_id)
    return responses.entity(nics.find(record.body, ext_id),
                            T + 'GetNicApiResponse', etag=record.etag)


@blueprint.route(NICS, methods=['POST'])
def create_nic(vm_ext_id):
    be = _be()
    record = _record(vm_ext_id)
    sources.check_if_match_when_sent(record.etag)
    spec = nics.parse(responses.json_body())
    nics.check(be.state, [dict(spec)])
    ext_id = compute_shapes.new_ext_id()

    def work(ctx):
        def mutate(vm):
            vm.setdefault('nics', []).extend(
                nics.build(be.state, [spec], [ext_id]))
        _update_vm(be, vm_ext_id, mutate)
    return _submit('kVmNicCreate', work, vm_ext_id, ext_id,
                   'CreateNicApiResponse')


@blueprint.route(NIC, methods=['PUT'])
def update_nic(vm_ext_id, ext_id):
    be = _be()
    record = _record(vm_ext_id)
    responses.check_if_match(record.etag)
    current = nics.find(record.body, ext_id)
    spec = nics.parse(responses.json_body())
    nics.check(be.state, [dict(spec)], exclude=(ext_id,), current=current)

    def work(ctx):
        def mutate(vm):
            stored = nics.find(vm, ext_id)
            new = nics.build(be.state, [spec], [ext_id], exclude=(ext_id,),
                             current=stored)[0]
            vm['nics'] = [new if n.get('extId') == ext_id else n
                          for n in vm['nics']]
        _update_vm(be, vm_ext_id, mutate)
    return _submit('kVmNicUpdate', work, vm_ext_id, ext_id,
                   'UpdateNicApiResponse')


@blueprint.route(NIC, methods=['DELETE'])
def delete_nic(vm_ext_id, ext_id):
    be = _be()
    record = _record(vm_ext_id)
    sources.check_if_match_when_sent(record.etag)
    nics.find(record.body, ext_id)

    def work(ctx):
        def mutate(vm):
            nics.find(vm, ext_id)
            vm['nics'] = [n for n in vm['nics'] if n.get('extId') != ext_id]
        _update_vm(be, vm_ext_id, mutate)
    return _submit('kVmNicDelete', work, vm_ext_id, ext_id,
                   'DeleteNicApiResponse')
