"""Replication of recovery points to a remote cluster (another emulator).

``$actions/replicate`` on a recovery point ships its disk recovery points
to the emulator of the remote cluster over HTTP, through the small
inter-site protocol of :mod:`api.replication` (not part of the Nutanix
surface; the real clusters speak their own):

1. ``POST /_replication/v1/sessions``: the recovery point's description
   and, per disk, the recovery point it can be sent incrementally from
   (the newest one already replicated to that cluster).  The target makes
   one staging disk per disk recovery point: a copy-on-write clone of its
   replica of that base when it has it, an empty disk otherwise, and says
   which bases it had.
2. ``PUT .../disks/<drp>/extents/<first offset>`` and ``POST .../zero/
   <offset>/<length>``: only the changed regions (:mod:`changed_regions`)
   between the base and the recovery point, many small regions batched
   into one request of up to ``replication_transfer_size`` bytes.
3. ``POST .../commit``: the target records its recovery point (same
   ``locationAgnosticId`` as the source's) whose disk recovery points are
   the staging disks.  Until then nothing is listed or restorable.

Any failure makes the source ``DELETE`` the session (the target removes
the staging disks) and the task fail.  A session the source never ends
(the source died) is removed by the target when it restarts or once it is
older than ``replication_session_timeout``.

Remote sites are registered through the admin API (``PUT
/_emulator/v1/remote-sites/<cluster extId>``): endpoint and credentials of
the remote emulator, standing in for a paired Prism Central.
"""

import copy
import logging
import struct
import time
import uuid

import requests

from nutanix_openstack.emulator import changed_regions
from nutanix_openstack.emulator import compute_shapes
from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import tasks as tasks_mod
from nutanix_openstack.emulator import volumes_recovery as recovery
from nutanix_openstack.emulator import volumes_sources as sources

LOG = logging.getLogger(__name__)

KIND_REMOTE = 'remote_site'
KIND_SESSION = 'replication_session'
PREFIX = '/_replication/v1'
REMOTE_KEYS = ('endpoint', 'username', 'password', 'verify', 'name',
               'pcExtId')


# Remote sites (admin API)

def register_remote(state, cluster_ext_id, body):
    if not isinstance(body, dict):
        raise errors.BadRequest("A remote site must be a JSON object")
    unknown = set(body) - set(REMOTE_KEYS)
    if unknown:
        raise errors.BadRequest("Unknown remote site keys: %s"
                                % ', '.join(sorted(unknown)))
    for key in ('endpoint', 'username', 'password'):
        if not isinstance(body.get(key), str) or not body[key]:
            raise errors.BadRequest("A remote site needs '%s'" % key)
    if not body['endpoint'].startswith(('http://', 'https://')):
        raise errors.BadRequest("'endpoint' must be an http(s) URL")
    verify = body.get('verify', False)
    if not isinstance(verify, (bool, str)):
        raise errors.BadRequest("'verify' must be a boolean or a CA path")
    site = dict(body, clusterExtId=cluster_ext_id, verify=verify,
                endpoint=body['endpoint'].rstrip('/'))
    state.put(KIND_REMOTE, cluster_ext_id, site)
    return public_remote(site)


def public_remote(site):
    return dict((k, v) for k, v in site.items() if k != 'password')


def find_remote(state, cluster_ext_id=None, pc_ext_id=None):
    site = None
    if cluster_ext_id:
        site = state.get(KIND_REMOTE, cluster_ext_id)
    elif pc_ext_id:
        site = next((s for s in state.list(KIND_REMOTE)
                     if s.get('pcExtId') == pc_ext_id), None)
    if site is None:
        raise errors.NotFound(
            "No remote cluster %s is paired with this cluster."
            % (cluster_ext_id or pc_ext_id), code='DATAPROTECTION-40401',
            error_group='REMOTE_SITE_NOT_FOUND')
    return site


# The source side

class LinkError(Exception):
    """The remote site could not be reached or refused a step."""


class Link(object):
    """HTTP to the remote emulator, with the replication retry policy."""

    def __init__(self, site, opts):
        self.site = site
        self.session = requests.Session()
        self.session.auth = (site['username'], site['password'])
        self.verify = site.get('verify', False)
        self.timeout = opts.replication_timeout
        self.retries = opts.replication_retries
        self.interval = opts.replication_retry_interval

    def call(self, method, path, **kwargs):
        url = self.site['endpoint'] + PREFIX + path
        last = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.interval)
            try:
                resp = self.session.request(method, url, timeout=self.timeout,
                                            verify=self.verify, **kwargs)
            except requests.RequestException as exc:
                last = 'connection failed (%s)' % type(exc).__name__
                continue
            if resp.status_code in (429, 502, 503, 504):
                last = 'HTTP %d' % resp.status_code
                continue
            if resp.status_code >= 400:
                raise LinkError('%s %s: HTTP %d %s' % (
                    method, path.split('/')[1], resp.status_code,
                    _error_text(resp)))
            return resp.json() if resp.content else {}
        raise LinkError('%s after %d attempts' % (last, self.retries + 1))

    def close(self):
        self.session.close()


def _error_text(resp):
    try:
        body = resp.json()
        return body['data']['error'][0]['message']
    except (ValueError, KeyError, IndexError, TypeError):
        return resp.text[:200]


def _members(rp):
    return (rp.get('vmRecoveryPoints') or []) + \
        (rp.get('volumeGroupRecoveryPoints') or [])


def _find_base(be, rp, disk_ext_id, cluster_ext_id):
    """``(base rp locationAgnosticId, base drp extId)`` or ``(None, None)``.

    The newest older recovery point replicated to that cluster that holds
    the same disk and still has its bytes here.
    """
    best = None
    for other in be.state.list(sources.KIND_RP):
        if other['extId'] == rp['extId'] or \
                cluster_ext_id not in (other.get('_replicas') or {}) or \
                other['creationTime'] > rp['creationTime']:
            continue
        for member in _members(other):
            for drp in member['diskRecoveryPoints']:
                if drp['diskExtId'] == disk_ext_id and \
                        (best is None or
                         other['creationTime'] > best[0]['creationTime']) \
                        and be.disks.exists(drp['diskRecoveryPointExtId']):
                    best = (other, drp['diskRecoveryPointExtId'])
    if best is None:
        return None, None
    return best[0]['locationAgnosticId'], best[1]


def _description(be, rp):
    """What the target needs to rebuild the recovery point (no bytes)."""
    body = copy.deepcopy(dict(
        (k, v) for k, v in rp.items()
        if k not in ('_replicas', 'locationReferences')))
    body['_containerNames'] = container_names(be)
    return body


def replicate(be, rp_ext_id, cluster_ext_id, ctx):
    """Ship a recovery point to a remote cluster; returns the remote extId.

    Runs in the task; does not hold ``sources.LOCK`` (disk recovery
    points are never written).  On failure the remote session is removed
    and the task fails.
    """
    rp = be.state.get(sources.KIND_RP, rp_ext_id)
    if rp is None:
        raise recovery.rp_not_found(rp_ext_id)
    site = find_remote(be.state, cluster_ext_id)
    done = (rp.get('_replicas') or {}).get(cluster_ext_id)
    link = Link(site, be.opts)
    try:
        if done:
            ctx.add_entity(done['extId'], sources.REL_RP)
            return done['extId']
        plan = []
        for member in _members(rp):
            for drp in member['diskRecoveryPoints']:
                base_lai, base_drp = _find_base(be, rp, drp['diskExtId'],
                                                cluster_ext_id)
                plan.append(dict(
                    diskRecoveryPointExtId=drp['diskRecoveryPointExtId'],
                    diskExtId=drp['diskExtId'],
                    sizeBytes=be.disks.size(drp['diskRecoveryPointExtId']),
                    baseLocationAgnosticId=base_lai, _base_drp=base_drp))
        try:
            answer = link.call('POST', '/sessions', json=dict(
                recoveryPoint=_description(be, rp),
                sourceClusterExtId=be.inventory.cluster_ext_id,
                disks=[dict((k, v) for k, v in p.items()
                            if not k.startswith('_')) for p in plan]))
        except LinkError as exc:
            raise _failed(cluster_ext_id, exc)
        session_id = answer['sessionId']
        try:
            sent = _send_disks(be, link, session_id, plan,
                               answer.get('bases') or {}, ctx)
            remote = link.call('POST', '/sessions/%s/commit' % session_id)
        except Exception as exc:
            _abort(link, session_id)
            if isinstance(exc, LinkError):
                raise _failed(cluster_ext_id, exc)
            if isinstance(exc, errors.ApiError):
                raise
            LOG.exception("Replication of %s failed", rp_ext_id)
            raise _failed(cluster_ext_id, exc)
    finally:
        link.close()
    remote_ext_id = remote['extId']
    full = sum(1 for p in plan
               if not (answer.get('bases') or {}).get(
                   p['diskRecoveryPointExtId']))

    def mutate(stored):
        stored.setdefault('_replicas', {})[cluster_ext_id] = {
            'extId': remote_ext_id, 'bytesSent': sent,
            'completedTime': tasks_mod.now_iso(),
            'fullDisks': full, 'incrementalDisks': len(plan) - full}
        refs = stored.setdefault('locationReferences', [])
        if not any(r.get('locationExtId') == cluster_ext_id for r in refs):
            refs.append({'$objectType': recovery.NS + 'LocationReference',
                         'locationExtId': cluster_ext_id})
    be.state.update(sources.KIND_RP, rp_ext_id, mutate)
    ctx.add_entity(remote_ext_id, sources.REL_RP)
    ctx.add_detail('bytesSent', str(sent))
    ctx.add_detail('incrementalDisks', str(len(plan) - full))
    LOG.info("Replicated recovery point %(rp)s to cluster %(cl)s as "
             "%(remote)s: %(sent)d bytes sent",
             {'rp': rp_ext_id, 'cl': cluster_ext_id, 'remote': remote_ext_id,
              'sent': sent})
    return remote_ext_id


def _failed(cluster_ext_id, exc):
    return errors.ApiError(
        "Replication to cluster %s failed: %s. The partial copy was removed "
        "and is not restorable." % (cluster_ext_id, exc), status=503,
        code='DATAPROTECTION-50301', error_group='REPLICATION_FAILED')


def _abort(link, session_id):
    try:
        link.call('DELETE', '/sessions/%s' % session_id)
    except Exception as exc:
        # The target removes sessions left behind by itself (timeout or
        # restart); nothing it holds is restorable meanwhile.
        LOG.warning("Could not remove replication session %(s)s on the "
                    "remote site: %(e)s", {'s': session_id, 'e': exc})


def _send_disks(be, link, session_id, plan, bases, ctx):
    """Ship the changed regions; returns the number of data bytes sent.

    Regions with data are batched into ``extents`` requests of up to
    ``replication_transfer_size`` bytes (many small regions, one request);
    zeroed regions are sent as their length only.
    """
    opts = be.opts
    piece = opts.replication_transfer_size
    sent = 0
    total = sum(p['sizeBytes'] for p in plan) or 1
    done = 0
    for p in plan:
        drp = p['diskRecoveryPointExtId']
        ref = p['_base_drp'] if bases.get(drp) else None
        path = '/sessions/%s/disks/%s' % (session_id, drp)
        batch, batch_bytes = [], 0

        def flush():
            if batch:
                link.call('PUT', '%s/extents/%d' % (path, batch[0][0]),
                          data=encode_extents(batch),
                          headers={'Content-Type':
                                   'application/octet-stream'})
                del batch[:]
        for offset, length, kind in changed_regions.compute(
                be.disks, drp, ref, block_size=opts.replication_block_size):
            if kind == changed_regions.ZEROED:
                link.call('POST', '%s/zero/%d/%d' % (path, offset, length))
                continue
            end = offset + length
            while offset < end:
                n = min(piece - batch_bytes, end - offset)
                batch.append((offset, be.disks.read(drp, offset, n)))
                batch_bytes += n
                sent += n
                offset += n
                if batch_bytes >= piece:
                    flush()
                    batch_bytes = 0
            ctx.progress(100.0 * (done + end) / total / 1.01)
        flush()
        done += p['sizeBytes']
    return sent


EXTENT_HEADER = struct.Struct('>QQ')


def encode_extents(extents):
    """``[(offset, bytes)...]`` as one request body.

    Per extent a 16-byte header (offset, length; big-endian), then the
    bytes.
    """
    parts = []
    for offset, data in extents:
        parts.append(EXTENT_HEADER.pack(offset, len(data)))
        parts.append(data)
    return b''.join(parts)


def decode_extents(stream, limit):
    """Yield ``(offset, bytes)`` from an ``extents`` body."""
    while True:
        header = stream.read(EXTENT_HEADER.size)
        if not header:
            return
        if len(header) != EXTENT_HEADER.size:
            raise errors.BadRequest("Truncated extent header")
        offset, length = EXTENT_HEADER.unpack(header)
        if length > limit:
            raise errors.BadRequest("Extent of %d bytes is too large"
                                    % length)
        data = stream.read(length)
        if len(data) != length:
            raise errors.BadRequest("Truncated extent")
        yield offset, data


# The target side

def _session(be, session_id):
    session = be.state.get(KIND_SESSION, session_id)
    if session is None:
        raise errors.NotFound("Replication session %s not found."
                              % session_id)
    return session


def sweep_sessions(be, older_than=None):
    """Remove sessions (and their staging disks) never committed."""
    now = time.time()
    for session in be.state.list(KIND_SESSION):
        if older_than is not None and \
                now - session['created'] < older_than:
            continue
        LOG.warning("Removing unfinished replication session %s",
                    session['extId'])
        _drop_session(be, session)


def _drop_session(be, session):
    sources.delete_bytes(be.disks, list(session['disks'].values()))
    be.state.delete(KIND_SESSION, session['extId'])


def _local_base(be, base_lai, disk_ext_id):
    if not base_lai:
        return None
    for rp in be.state.list(sources.KIND_RP):
        if rp.get('locationAgnosticId') != base_lai:
            continue
        for member in _members(rp):
            for drp in member['diskRecoveryPoints']:
                if drp['diskExtId'] == disk_ext_id and \
                        be.disks.exists(drp['diskRecoveryPointExtId']):
                    return drp['diskRecoveryPointExtId']
    return None


def begin(be, body):
    """Open a session: staging disks, bases found; ``{sessionId, bases}``."""
    sweep_sessions(be, older_than=be.opts.replication_session_timeout)
    rp = body.get('recoveryPoint')
    disks = body.get('disks')
    if not isinstance(rp, dict) or not rp.get('locationAgnosticId') or \
            not isinstance(disks, list):
        raise errors.BadRequest("A session needs 'recoveryPoint' and "
                                "'disks'")
    for existing in be.state.list(sources.KIND_RP):
        if existing.get('locationAgnosticId') == rp['locationAgnosticId']:
            raise errors.Conflict("Recovery point %s is already here as %s."
                                  % (rp['extId'], existing['extId']))
    session_id = str(uuid.uuid4())
    staging, bases = {}, {}
    session = {'extId': session_id, 'created': time.time(),
               'recoveryPoint': rp, 'disks': staging,
               'sourceClusterExtId': body.get('sourceClusterExtId')}
    # Recorded first: a crash while staging leaves nothing unaccounted.
    be.state.put(KIND_SESSION, session_id, session)
    try:
        for disk in disks:
            drp, size = disk.get('diskRecoveryPointExtId'), \
                disk.get('sizeBytes')
            if not isinstance(drp, str) or not isinstance(size, int) or \
                    size < 0:
                raise errors.BadRequest("Each disk needs "
                                        "'diskRecoveryPointExtId' and "
                                        "'sizeBytes'")
            new_id = compute_shapes.new_ext_id()
            base = _local_base(be, disk.get('baseLocationAgnosticId'),
                               disk.get('diskExtId'))
            if base is not None and be.disks.size(base) <= size:
                be.disks.clone(base, new_id, size)
                bases[drp] = True
            else:
                be.disks.create(new_id, size)
                bases[drp] = False
            staging[drp] = new_id
            be.state.update(KIND_SESSION, session_id,
                            lambda s: s.update(disks=dict(staging)))
    except Exception:
        _drop_session(be, dict(session, disks=staging))
        raise
    return {'sessionId': session_id, 'bases': bases}


def _staging_disk(be, session_id, drp):
    session = _session(be, session_id)
    disk_id = session['disks'].get(drp)
    if disk_id is None:
        raise errors.NotFound("Disk recovery point %s is not part of "
                              "session %s." % (drp, session_id))
    return disk_id


def write_extents(be, session_id, drp, stream):
    """Write an ``extents`` body into the staging disk; bytes written."""
    disk_id = _staging_disk(be, session_id, drp)
    size = be.disks.size(disk_id)
    written = 0
    for offset, data in decode_extents(
            stream, be.opts.replication_transfer_size):
        if offset + len(data) > size:
            raise errors.BadRequest("Write past the end of the disk")
        be.disks.write(disk_id, offset, data)
        written += len(data)
    return written


def zero(be, session_id, drp, offset, length):
    disk_id = _staging_disk(be, session_id, drp)
    if offset + length > be.disks.size(disk_id):
        raise errors.BadRequest("Zeroing past the end of the disk")
    step = be.disks.chunk_size
    end = offset + length
    while offset < end:
        n = min(step, end - offset)
        be.disks.write(disk_id, offset, bytes(n))
        offset += n


def abort(be, session_id):
    _drop_session(be, _session(be, session_id))


def _localize(be, rp, staging, source_cluster):
    """The replica's body: this cluster's ids where the source had its."""
    here = be.inventory.cluster_ext_id
    containers = dict((c['ext_id'], c['name'])
                      for c in be.inventory.storage_containers)
    by_name = dict((name, ext_id) for ext_id, name in containers.items())
    default = be.inventory.default_container['ext_id']
    names = rp.get('_containerNames') or {}

    def container(ext_id):
        if ext_id in containers:
            return ext_id
        return by_name.get(names.get(ext_id), default)

    rp = copy.deepcopy(rp)
    rp.pop('_containerNames', None)
    for member in _members(rp):
        member['extId'] = compute_shapes.new_ext_id()
        for drp in member['diskRecoveryPoints']:
            drp['diskRecoveryPointExtId'] = staging[
                drp['diskRecoveryPointExtId']]
            disk = drp.get('_disk') or {}
            if 'storageContainerId' in disk:
                disk['storageContainerId'] = container(
                    disk['storageContainerId'])
            backing = (disk.get('backingInfo') or {}).get(
                'storageContainer')
            if backing and backing.get('extId'):
                backing['extId'] = container(backing['extId'])
        if '_vg' in member:
            member['_vg']['clusterReference'] = here
        vm = member.get('_vm')
        if vm and isinstance(vm.get('cluster'), dict):
            vm['cluster']['extId'] = here
    rp['locationReferences'] = [{
        '$objectType': recovery.NS + 'LocationReference',
        'locationExtId': here}]
    rp['_replicatedFrom'] = {'clusterExtId': source_cluster,
                             'extId': rp['extId']}
    return rp


def commit(be, session_id):
    """Make the replica a recovery point of this cluster; its body."""
    with sources.LOCK:
        session = _session(be, session_id)
        rp = _localize(be, session['recoveryPoint'], session['disks'],
                       session.get('sourceClusterExtId'))
        rp['extId'] = compute_shapes.new_ext_id()
        with be.state.transaction():
            be.state.put(sources.KIND_RP, rp['extId'], rp)
            be.state.delete(KIND_SESSION, session_id)
    LOG.info("Replica %(rp)s of recovery point %(src)s committed",
             {'rp': rp['extId'], 'src': rp['_replicatedFrom']['extId']})
    return {'extId': rp['extId'],
            'locationAgnosticId': rp['locationAgnosticId']}


def container_names(be):
    """``{container extId: name}`` of this cluster (sent with a replica)."""
    return dict((c['ext_id'], c['name'])
                for c in be.inventory.storage_containers)
