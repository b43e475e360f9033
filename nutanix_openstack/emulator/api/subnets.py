"""``/api/networking/v4.x/config/subnets`` and ``.../virtual-switches``.

VLAN subnets of the emulated cluster, with or without IP address
management (see :mod:`networking_shapes`).  Writes answer 202 with a task;
bodies are validated before the task exists (400/404/409 right away) and
the state checks are repeated inside it.  A subnet a NIC still uses cannot
be deleted (409), and an IPAM change that would strand a NIC's address
(outside the new CIDR, or IPAM removed) is refused the same way.  The
virtual switches (the cluster's default ``vs0``) are seeded from the
inventory and are read-only here.
"""

import flask

from nutanix_openstack.emulator import backend as backend_mod
from nutanix_openstack.emulator import compute_nics
from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import networking_shapes as shapes
from nutanix_openstack.emulator import responses
from nutanix_openstack.emulator import volumes_sources as sources

blueprint = flask.Blueprint('subnets', __name__)

T = 'networking.v4.config.'
SUBNETS = responses.v4_path('networking', '/config/subnets')
SUBNET = SUBNETS + '/<ext_id>'
SWITCHES = responses.v4_path('networking', '/config/virtual-switches')
SWITCH = SWITCHES + '/<ext_id>'


def _be():
    return backend_mod.get()


def _record(ext_id):
    return _be().state.require_record(shapes.KIND_SUBNET, ext_id,
                                      shapes.subnet_not_found)


def _submit(operation, fn, ext_id):
    task = _be().tasks.submit(operation, fn,
                              entities_affected=[(ext_id, shapes.REL_SUBNET)])
    return responses.task_accepted(task, T + 'TaskReferenceApiResponse')


def _default_switch(state, cluster_ext_id):
    switches = [s for s in state.list(shapes.KIND_VIRTUAL_SWITCH)
                if cluster_ext_id in [c.get('extId')
                                      for c in s.get('clusters') or []]]
    for switch in switches:
        if switch.get('isDefault'):
            return switch
    if switches:
        return switches[0]
    raise errors.NotFound("Cluster %s has no virtual switch."
                          % cluster_ext_id, code='NET-40401',
                          error_group='VIRTUAL_SWITCH_NOT_FOUND')


def _in_use(state, ext_id):
    users = compute_nics.nics_on_subnet(state, ext_id)
    if users:
        raise errors.Conflict(
            "Subnet %s is used by %d NIC(s) (VM %s); remove them first."
            % (ext_id, len(users), users[0][0]['extId']),
            code='NET-40900', error_group='SUBNET_IN_USE')


def _check_ipam_change(state, old, new):
    """409 if NICs hold addresses the new IPAM settings cannot keep."""
    for vm, nic in compute_nics.nics_on_subnet(state, old['extId']):
        ip = compute_nics.nic_ip(nic)
        if ip is None:
            continue
        try:
            compute_nics.check_ip_in_subnet(new, ip)
        except errors.BadRequest as exc:
            raise errors.Conflict(
                "NIC %s of VM %s holds %s, which the new IP settings "
                "would not keep: %s" % (nic['extId'], vm['extId'], ip,
                                        exc.message),
                code='NET-40901', error_group='SUBNET_IN_USE')


# -------------------------------------------------------------- subnets

@blueprint.route(SUBNETS, methods=['POST'])
def create_subnet():
    be = _be()
    body = responses.json_body()
    _, cluster_ext_id, switch_ext_id = shapes.parse_create(body)
    cluster_ext_id = cluster_ext_id or be.inventory.cluster_ext_id
    cluster = be.state.get('cluster', cluster_ext_id)
    if cluster is None or 'PRISM_CENTRAL' in (
            (cluster.get('config') or {}).get('clusterFunction') or []):
        raise errors.NotFound("Cluster %s not found." % cluster_ext_id,
                              code='NET-40402',
                              error_group='CLUSTER_NOT_FOUND')
    if switch_ext_id:
        switch = be.state.get(shapes.KIND_VIRTUAL_SWITCH, switch_ext_id)
        if switch is None:
            raise shapes.virtual_switch_not_found(switch_ext_id)
    else:
        switch = _default_switch(be.state, cluster_ext_id)
    ext_id = shapes.new_ext_id()
    subnet = shapes.new_subnet(body, ext_id, cluster, switch)

    def work(ctx):
        be.state.put(shapes.KIND_SUBNET, ext_id, subnet)
    return _submit('kCreateSubnet', work, ext_id)


def _render(state, subnets):
    """Subnets as GET returns them, with their ``ipUsage``."""
    nics = {}
    for _, nic in compute_nics.all_nics(state):
        nics.setdefault(compute_nics.nic_subnet(nic), []).append(nic)
    out = []
    for subnet in subnets:
        on_it = nics.get(subnet['extId'], [])
        addresses = [a for a in map(compute_nics.nic_ip, on_it) if a]
        out.append(shapes.render_subnet(
            subnet, shapes.ip_usage(subnet, len(on_it), addresses)))
    return out


@blueprint.route(SUBNETS, methods=['GET'])
def list_subnets():
    state = _be().state
    items = _render(state, state.list(shapes.KIND_SUBNET))
    return responses.listing(items, T + 'ListSubnetsApiResponse')


@blueprint.route(SUBNET, methods=['GET'])
def get_subnet(ext_id):
    record = _record(ext_id)
    (subnet,) = _render(_be().state, [record.body])
    return responses.entity(subnet, T + 'GetSubnetApiResponse',
                            etag=record.etag)


@blueprint.route(SUBNET, methods=['PUT'])
def update_subnet(ext_id):
    be = _be()
    record = _record(ext_id)
    responses.check_if_match(record.etag)
    body = responses.json_body()
    new = shapes.parse_update(record.body, body)
    _check_ipam_change(be.state, record.body, new)

    def mutate(stored):
        updated = shapes.parse_update(stored, body)
        _check_ipam_change(be.state, stored, updated)
        return updated

    def work(ctx):
        with sources.LOCK:
            if be.state.update(shapes.KIND_SUBNET, ext_id, mutate) is None:
                raise shapes.subnet_not_found(ext_id)
    return _submit('kUpdateSubnet', work, ext_id)


@blueprint.route(SUBNET, methods=['DELETE'])
def delete_subnet(ext_id):
    be = _be()
    sources.check_if_match_when_sent(_record(ext_id).etag)
    _in_use(be.state, ext_id)

    def work(ctx):
        with sources.LOCK:
            with be.state.transaction():
                if be.state.get(shapes.KIND_SUBNET, ext_id) is None:
                    raise shapes.subnet_not_found(ext_id)
                _in_use(be.state, ext_id)
                be.state.delete(shapes.KIND_SUBNET, ext_id)
    return _submit('kDeleteSubnet', work, ext_id)


# ----------------------------------------------------- virtual switches

@blueprint.route(SWITCHES, methods=['GET'])
def list_virtual_switches():
    items = _be().state.list(shapes.KIND_VIRTUAL_SWITCH)
    return responses.listing(items, T + 'ListVirtualSwitchesApiResponse')


@blueprint.route(SWITCH, methods=['GET'])
def get_virtual_switch(ext_id):
    record = _be().state.require_record(shapes.KIND_VIRTUAL_SWITCH, ext_id,
                                        shapes.virtual_switch_not_found)
    return responses.entity(record.body, T + 'GetVirtualSwitchApiResponse',
                            etag=record.etag)
