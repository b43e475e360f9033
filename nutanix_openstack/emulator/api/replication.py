"""The inter-site replication protocol and the remote-site registry.

Not part of the Nutanix surface (real clusters replicate over their own
channel): ``/_replication/v1/`` is what one emulator process sends another
when a recovery point is replicated (see :mod:`..replication`), and
``/_emulator/v1/remote-sites`` pairs this emulator with the emulator of
another cluster (the stand-in for pairing Prism Centrals).  Both need the
emulator's basic auth.  Unlike the admin API, the replication paths can be
faulted (a link that drops mid-transfer).

=======  =============================================  ===================
method   path                                           effect
=======  =============================================  ===================
POST     /_replication/v1/sessions                      open: staging disks
PUT      /_replication/v1/sessions/<s>/disks/<d>/extents/<off>  bytes
POST     /_replication/v1/sessions/<s>/disks/<d>/zero/<off>/<len>  zeros
POST     /_replication/v1/sessions/<s>/commit           the replica appears
DELETE   /_replication/v1/sessions/<s>                  drop staging disks
GET      /_emulator/v1/remote-sites                     paired sites
PUT      /_emulator/v1/remote-sites/<cluster extId>     pair (JSON)
DELETE   /_emulator/v1/remote-sites/<cluster extId>     unpair
=======  =============================================  ===================
"""

import flask

from nutanix_openstack.emulator import backend as backend_mod
from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import replication
from nutanix_openstack.emulator import responses

blueprint = flask.Blueprint('replication', __name__)
SESSIONS = replication.PREFIX + '/sessions'
SESSION = SESSIONS + '/<session_id>'
DISK = SESSION + '/disks/<drp>'
REMOTES = '/_emulator/v1/remote-sites'


def _be():
    return backend_mod.get()


@blueprint.route(SESSIONS, methods=['POST'])
def begin_session():
    return flask.jsonify(replication.begin(_be(), responses.json_body())), 201


@blueprint.route(DISK + '/extents/<int:offset>', methods=['PUT'])
def write_extents(session_id, drp, offset):
    """Several (offset, bytes) records; ``offset`` names the first."""
    written = replication.write_extents(_be(), session_id, drp,
                                        flask.request.stream)
    return flask.jsonify({'written': written})


@blueprint.route(DISK + '/zero/<int:offset>/<int:length>', methods=['POST'])
def write_zeros(session_id, drp, offset, length):
    replication.zero(_be(), session_id, drp, offset, length)
    return flask.jsonify({'zeroed': length})


@blueprint.route(SESSION + '/commit', methods=['POST'])
def commit_session(session_id):
    return flask.jsonify(replication.commit(_be(), session_id))


@blueprint.route(SESSION, methods=['DELETE'])
def abort_session(session_id):
    replication.abort(_be(), session_id)
    return flask.jsonify({'aborted': session_id})


@blueprint.route(REMOTES, methods=['GET'])
def list_remote_sites():
    return flask.jsonify({'remoteSites': [
        replication.public_remote(s)
        for s in _be().state.list(replication.KIND_REMOTE)]})


@blueprint.route(REMOTES + '/<cluster_ext_id>', methods=['PUT'])
def register_remote_site(cluster_ext_id):
    be = _be()
    if cluster_ext_id == be.inventory.cluster_ext_id:
        raise errors.BadRequest("A cluster cannot be its own remote site")
    return flask.jsonify(replication.register_remote(
        be.state, cluster_ext_id, flask.request.get_json(silent=True)))


@blueprint.route(REMOTES + '/<cluster_ext_id>', methods=['DELETE'])
def unregister_remote_site(cluster_ext_id):
    be = _be()
    replication.find_remote(be.state, cluster_ext_id)
    be.state.delete(replication.KIND_REMOTE, cluster_ext_id)
    return flask.jsonify({'removed': cluster_ext_id})
