"""What a restart after a crash puts right.

The emulator promises: **nothing acknowledged is lost, nothing
unacknowledged is left.**  The first half comes from the stores (SQLite in
WAL mode, chunk files written before their metadata commits).  The second
is this module's job, run once when the emulator starts on a data
directory no other live emulator process uses:

* tasks still QUEUED or RUNNING end FAILED with a v4 error
  (``PRISM-50001``, error group ``TASK_INTERRUPTED``): nobody will finish
  them;
* work recorded *in flight* (:meth:`StateStore.begin_in_flight`) is removed
  with the disks it owns: an image waiting for (or in the middle of) its
  upload, a URL import.  Such an image was never complete, so it does not
  survive as a 0-byte image whose disk holds partial bytes;
* request ids whose request never finished are forgotten, so that the
  client's retry runs again instead of hearing "still being processed";
* disks no record owns are deleted: the bytes of a create that was killed
  between making its disks and recording its object (a VM, a volume group,
  a recovery point, an image import).  A disk is owned when its id appears
  anywhere in the body of an entity that is not a task (images, VMs and
  their disks, volume groups and their disks, recovery points and their
  disk recovery points, and whatever later kinds record); layers and chunk
  files only disks use go with them (the disk store's own sweep removes
  files no layer row names).  Only with the local disk store, which lives
  in the data directory: a Ceph pool (``[storage] backend = rbd``) may be
  shared, so there only the disks of in-flight work are removed.

One process serves a data directory (:mod:`.datadir_lock`), so what is
in flight at start can only be the leftover of a dead process.
"""

import logging

LOG = logging.getLogger(__name__)

TASK_KIND = 'task'


def owned_disk_ids(state):
    """Every string in the bodies of entities other than tasks."""
    owned = set()

    def walk(value):
        if isinstance(value, str):
            owned.add(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for _kind, body in state.iter_bodies(exclude_kinds=(TASK_KIND,)):
        walk(body)
    return owned


def _delete_disk(disks, disk_id):
    try:
        if disks.exists(disk_id):
            disks.delete(disk_id)
            return 1
    except Exception:   # one bad disk must not stop the start
        LOG.exception("Could not remove disk %s", disk_id)
    return 0


def reconcile(state, disks, tasks, collect_unowned=True):
    """Put the data right after a crash; returns what was done (a dict).

    ``collect_unowned=False`` keeps disks no record owns (a disk store
    that other emulators may share, such as a Ceph pool): only the disks
    of in-flight work, which this data dir names, are removed then.
    """
    report = {'tasks_failed': len(tasks.fail_interrupted()),
              'in_flight_removed': 0, 'requests_released': 0,
              'disks_collected': 0}
    for kind, ext_id, operation, disk_ids in state.list_in_flight():
        LOG.warning("%(op)s of %(kind)s %(id)s was cut short by a crash: "
                    "removing it", {'op': operation, 'kind': kind,
                                    'id': ext_id})
        with state.transaction():
            state.delete(kind, ext_id)
            state.end_in_flight(kind, ext_id)
        for disk_id in disk_ids:
            report['disks_collected'] += _delete_disk(disks, disk_id)
        report['in_flight_removed'] += 1
    report['requests_released'] = state.release_unfinished_requests()
    owned = owned_disk_ids(state)
    for disk_id in disks.list_disks() if collect_unowned else ():
        if disk_id not in owned:
            LOG.warning("Disk %s belongs to no object (a create cut short "
                        "by a crash): removing it", disk_id)
            report['disks_collected'] += _delete_disk(disks, disk_id)
    if any(report.values()):
        LOG.warning("Reconciled after a crash: %s", report)
    return report
