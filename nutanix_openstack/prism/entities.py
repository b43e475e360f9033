"""What v4 entity collections share: get, list, lookup by name, delete.

Every resource API of the client (images, VMs, volume groups, recovery
points) reads, lists, finds by name and deletes its entities the same way;
those with changeable entities also update them with ``If-Match``.
"""

from nutanix_openstack.prism import paths


class EntitiesAPI(object):
    """A v4 entity collection at ``COLLECTION``."""

    COLLECTION = None

    def __init__(self, session, tasks):
        self._session = session
        self._tasks = tasks

    @classmethod
    def _path(cls, ext_id, *more):
        return '/'.join((cls.COLLECTION, ext_id) + more)

    def get(self, ext_id):
        return self._session.get_data(self._path(ext_id))

    def list(self, filter=None, limit=None):
        """All pages, as a list (``$page``/``$limit`` handled here)."""
        return self._session.list_all(self.COLLECTION, filter=filter,
                                      limit=limit)

    def find_by_name(self, name):
        """The entities named exactly ``name`` (normally 0 or 1).

        ``$filter`` narrows the list on the server; the exact comparison
        keeps a server whose ``eq`` ignores case from answering with
        another entity.
        """
        return [e for e in self.list(filter=paths.name_filter(name))
                if e.get('name') == name]

    def delete(self, ext_id, wait=True):
        resp = self._session.conditional('DELETE', self._path(ext_id))
        return self._tasks.run(resp, wait=wait)


class UpdatableEntitiesAPI(EntitiesAPI):
    """A collection whose entities change with GET + PUT ``If-Match``."""

    def update(self, ext_id, **fields):
        """GET for the ETag, then PUT with ``If-Match``; returns the entity.

        ``fields`` are v4 fields (camelCase) replacing the entity's own.
        """
        def mutate(data):
            data.update(fields)
            return data
        self._tasks.run(self._session.update(self._path(ext_id), mutate))
        return self.get(ext_id)
