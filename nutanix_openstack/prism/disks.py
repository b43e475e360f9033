"""The ``.../disks`` sub-collection VMs and volume groups both have.

A VM's disks and a volume group's disks are listed, read, added and
deleted the same way: only the parent path and the ``rel`` a task names
the new disk by differ.  A VM's ``.../nics`` work the same way too
(``segment='nics'``).
"""

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import tasks as tasks_mod


class DiskCollection(object):
    """``<parent>/{extId}/disks`` of one kind of parent.

    ``parent_path(ext_id, *more)`` builds paths under a parent; ``rel``
    is the task ``entitiesAffected`` rel of a disk; ``parent_kind`` names
    the parent in error messages; ``segment`` is the sub-collection's
    path segment.
    """

    def __init__(self, session, tasks, parent_path, rel, parent_kind,
                 segment='disks'):
        self._segment = segment
        self._session = session
        self._tasks = tasks
        self._path = parent_path
        self._rel = rel
        self._kind = parent_kind

    def path(self, parent_ext_id, disk_ext_id=None):
        more = ((self._segment,) if disk_ext_id is None
                else (self._segment, disk_ext_id))
        return self._path(parent_ext_id, *more)

    def list(self, parent_ext_id):
        return self._session.list_all(self.path(parent_ext_id))

    def get(self, parent_ext_id, disk_ext_id):
        return self._session.get_data(self.path(parent_ext_id, disk_ext_id))

    def add(self, parent_ext_id, disk, wait=True):
        """POST ``.../disks``; returns the new disk dict.

        With ``wait=False`` returns ``{'extId': <task extId>}``.
        """
        before = set(d.get('extId') for d in self.list(parent_ext_id))
        resp = self._session.conditional(
            'POST', self.path(parent_ext_id),
            etag_path=self._path(parent_ext_id), body=disk)
        if not wait:
            return {'extId': tasks_mod.task_ext_id(resp)}
        task = self._tasks.run(resp)
        found = tasks_mod.affected(task, self._rel)
        if found:
            return self.get(parent_ext_id, found[-1]['extId'])
        # The task names only the parent: the new disk is the one not there
        # before.
        new = [d for d in self.list(parent_ext_id)
               if d.get('extId') not in before]
        if len(new) != 1:
            raise exc.UnexpectedResponse(
                'cannot tell which of the %s task %s added to %s %s'
                % (self._segment, task.get('extId'), self._kind,
                   parent_ext_id))
        return new[0]

    def update(self, parent_ext_id, disk_ext_id, mutate, wait=True):
        """GET the disk, ``mutate`` it, PUT it back with If-Match.

        Returns the disk as it is afterwards (or the task reference with
        ``wait=False``).
        """
        resp = self._session.update(self.path(parent_ext_id, disk_ext_id),
                                    mutate)
        self._tasks.run(resp, wait=wait)
        return self.get(parent_ext_id, disk_ext_id) if wait else resp

    def delete(self, parent_ext_id, disk_ext_id, wait=True):
        resp = self._session.conditional(
            'DELETE', self.path(parent_ext_id, disk_ext_id))
        return self._tasks.run(resp, wait=wait)
