"""An in-memory stand-in for PrismClient, for unit tests of the store.

Only the calls the store makes, with the client's contract: dicts in the
v4 shape, errors from nutanix_openstack.prism.exceptions.
"""

import uuid

from nutanix_openstack.prism import exceptions as prism_exc

CLUSTER = '00000000-0000-4000-8000-00000000c1c1'
CONTAINER = '00000000-0000-4000-8000-0000000000c0'


class FakeImages(object):

    def __init__(self):
        self.images = {}
        self.data = {}
        self.calls = []
        self.upload_error = None     # raised after consuming the source
        self.stored_size_delta = 0   # a cluster that stores other bytes
        self.derive_error = None     # ensure_disk_image fails with this

    def create_for_upload(self, name, image_type='DISK_IMAGE',
                          description=None, cluster_ext_id=None):
        ext_id = str(uuid.uuid4())
        self.calls.append(('create_for_upload', name, image_type,
                           cluster_ext_id))
        self.images[ext_id] = {'extId': ext_id, 'name': name,
                               'type': image_type, 'sizeBytes': 0,
                               'description': description,
                               'clusterLocationExtIds': [cluster_ext_id]}
        self.data[ext_id] = b''
        return dict(self.images[ext_id])

    def find_by_name(self, name):
        # Not recorded in calls: the store looks for leftovers first.
        return [dict(i) for i in self.images.values() if i['name'] == name]

    def upload(self, ext_id, data_iter, size=None, progress_callback=None):
        self.calls.append(('upload', ext_id, size))
        buf = []
        for chunk in data_iter:
            buf.append(chunk)
        if self.upload_error:
            raise self.upload_error
        self.data[ext_id] = b''.join(buf)
        self.images[ext_id]['sizeBytes'] = (len(self.data[ext_id]) +
                                            self.stored_size_delta)
        if progress_callback:
            progress_callback(100)
        return dict(self.images[ext_id])

    def get(self, ext_id):
        self.calls.append(('get', ext_id))
        if ext_id not in self.images:
            raise prism_exc.NotFound('image %s' % ext_id, status=404)
        return dict(self.images[ext_id])

    def download(self, ext_id, offset=0, length=None, chunk_size=None):
        self.calls.append(('download', ext_id, offset, length, chunk_size))
        if ext_id not in self.images:
            raise prism_exc.NotFound('image %s' % ext_id, status=404)
        data = self.data[ext_id]
        end = len(data) if length is None else offset + length
        step = chunk_size or 4
        return iter([data[i:min(i + step, end)]
                     for i in range(offset, end, step)])

    def delete(self, ext_id, wait=True):
        self.calls.append(('delete', ext_id))
        if ext_id not in self.images:
            raise prism_exc.NotFound('image %s' % ext_id, status=404)
        del self.images[ext_id]
        del self.data[ext_id]

    def list_derived(self, ext_id):
        self.calls.append(('list_derived', ext_id))
        name = 'openstack-raw-' + ext_id
        return [dict(i) for i in self.images.values() if i['name'] == name]

    def ensure_disk_image(self, ext_id, progress_callback=None):
        """The cluster's conversion (and check) of an ISO_IMAGE."""
        self.calls.append(('ensure_disk_image', ext_id))
        if self.images[ext_id]['type'] == 'DISK_IMAGE':
            return ext_id
        if self.derive_error:
            raise self.derive_error
        return self.add_derived(ext_id)

    def add_derived(self, ext_id):
        derived = str(uuid.uuid4())
        self.images[derived] = {'extId': derived, 'type': 'DISK_IMAGE',
                                'name': 'openstack-raw-' + ext_id,
                                'sizeBytes': 0}
        self.data[derived] = b''
        return derived


class FakeClusters(object):

    def __init__(self):
        self.clusters = [
            {'extId': CLUSTER, 'name': 'cluster-a',
             'config': {'clusterFunction': ['AOS']}},
            {'extId': str(uuid.uuid4()), 'name': 'pc',
             'config': {'clusterFunction': ['PRISM_CENTRAL']}}]
        self.containers = [{'containerExtId': CONTAINER,
                            'name': 'images', 'clusterExtId': CLUSTER}]
        self.free_bytes = 10 ** 12
        self.error = None

    def find_cluster(self, name_or_ext_id=None):
        if self.error:
            raise self.error
        if name_or_ext_id:
            for c in self.clusters:
                if name_or_ext_id in (c['extId'], c['name']):
                    return c
            raise prism_exc.NotFound('no cluster %r' % name_or_ext_id)
        pe = [c for c in self.clusters
              if 'PRISM_CENTRAL' not in c['config']['clusterFunction']]
        if len(pe) != 1:
            raise prism_exc.ConfigurationError(
                'found %d clusters: set the "cluster" option' % len(pe))
        return pe[0]

    def find_storage_container(self, name_or_ext_id, cluster_ext_id=None):
        for c in self.containers:
            if name_or_ext_id in (c['containerExtId'], c['name']):
                return c
        raise prism_exc.NotFound('no storage container %r' % name_or_ext_id)

    def container_capacity(self, ext_id):
        return {'total_bytes': 2 * self.free_bytes, 'used_bytes': 0,
                'free_bytes': self.free_bytes, 'provisioned_bytes': 0}


class FakeClient(object):

    def __init__(self):
        self.images = FakeImages()
        self.clusters = FakeClusters()
