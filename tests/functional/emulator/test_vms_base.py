"""Shared base of the VM / volume group / recovery point functional tests.

Not a test module itself: it holds the HTTP helpers (plain ``requests``
against an :class:`EmulatorFixture` on loopback) the three suites use.
"""

import time
import urllib.parse
import uuid

import ntnx_prism_py_client
import requests
import testtools

from nutanix_openstack.emulator import fixture

VMM = '/api/vmm/v4.3/ahv/config'
VOLUMES = '/api/volumes/v4.3/config'
DP = '/api/dataprotection/v4.4/config'
TASKS = '/api/prism/v4.4/config/tasks'
NETWORKING = '/api/networking/v4.4/config'
MiB = 1024 * 1024
GiB = 1024 * MiB


class ApiTestCase(testtools.TestCase):
    """A fresh emulator per test and small v4 helpers."""

    task_mode = 'immediate'

    def setUp(self):
        super().setUp()
        self.emu = self.useFixture(fixture.EmulatorFixture(
            task_mode=self.task_mode))
        self.http = requests.Session()
        self.http.auth = (self.emu.username, self.emu.password)
        self.addCleanup(self.http.close)

    # -- raw calls ---------------------------------------------------------

    def call(self, method, path, body=None, headers=None, request_id=None,
             **kwargs):
        headers = dict(headers or {})
        if method != 'GET':
            headers.setdefault('NTNX-Request-Id',
                               request_id or str(uuid.uuid4()))
        return self.http.request(method, self.emu.endpoint + path,
                                 json=body, headers=headers, timeout=60,
                                 **kwargs)

    def get(self, path):
        """(data, ETag) of a GET that must succeed."""
        resp = self.call('GET', path)
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json().get('data'), resp.headers.get('ETag')

    def list(self, path, **params):
        resp = self.call('GET', path, params=params)
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json().get('data', [])

    def wait_task(self, resp, timeout=30):
        self.assertEqual(202, resp.status_code, resp.text)
        ref = resp.json()['data']
        self.assertEqual('prism.v4.config.TaskReference', ref['$objectType'])
        deadline = time.time() + timeout
        while True:
            task, _ = self.get('%s/%s' % (TASKS, ref['extId']))
            if task['status'] in ('SUCCEEDED', 'FAILED', 'CANCELED'):
                return task
            if time.time() > deadline:
                self.fail('task %s did not end' % ref['extId'])
            time.sleep(0.02)

    def run_ok(self, method, path, body=None, headers=None):
        """A write that must end with a SUCCEEDED task; returns the task."""
        task = self.wait_task(self.call(method, path, body, headers))
        self.assertEqual('SUCCEEDED', task['status'],
                         task.get('errorMessages'))
        return task

    def assert_error(self, resp, status, code=None):
        self.assertEqual(status, resp.status_code, resp.text)
        error = resp.json()['data']['error'][0]
        if code:
            self.assertEqual(code, error['code'])
        return error

    @staticmethod
    def created(task, rel):
        return [e['extId'] for e in task['entitiesAffected']
                if e['rel'] == rel]

    # -- entities ------------------------------------------------------------

    def make_image(self, data, name='img'):
        """An image whose bytes are ``data`` (v3 create + upload)."""
        ext_id = str(uuid.uuid4())
        resp = self.call('POST', '/api/nutanix/v3/images', {
            'spec': {'name': name, 'resources': {'image_type': 'ISO_IMAGE'}},
            'metadata': {'kind': 'image', 'uuid': ext_id}})
        self.assertEqual(202, resp.status_code, resp.text)
        image_path = '/api/vmm/v4.3/content/images/' + ext_id
        self.wait_for(lambda: self.call('GET', image_path).status_code == 200)
        resp = self.http.put(
            '%s/api/nutanix/v3/images/%s/file' % (self.emu.endpoint, ext_id),
            data=data, headers={'Content-Type': 'application/octet-stream'})
        self.assertLess(resp.status_code, 300, resp.text)
        # The import task records the size once the bytes are in.
        self.wait_for(lambda: self.get(image_path)[0].get('sizeBytes'))
        self.assertEqual(data, self.emu.admin.read_disk(ext_id, 0,
                                                        len(data)))
        return ext_id

    def wait_for(self, predicate, timeout=30):
        deadline = time.time() + timeout
        while not predicate():
            if time.time() > deadline:
                self.fail('condition not met in %ss' % timeout)
            time.sleep(0.02)

    def vm_body(self, name='vm', disks=(), **extra):
        body = {'name': name, 'numSockets': 1, 'numCoresPerSocket': 2,
                'memorySizeBytes': 2 * GiB, 'disks': list(disks)}
        body.update(extra)
        return body

    def create_vm(self, name='vm', disks=(), **extra):
        task = self.run_ok('POST', VMM + '/vms',
                           self.vm_body(name, disks, **extra))
        return self.created(task, 'vmm:ahv:config:vm')[0]

    def create_vg(self, name='vg', disks=(), **extra):
        body = {'name': name, 'disks': list(disks)}
        body.update(extra)
        task = self.run_ok('POST', VOLUMES + '/volume-groups', body)
        return self.created(task, 'volumes:config:volume-group')[0]

    def create_subnet(self, name='net', vlan=0, ipv4=None):
        """A VLAN subnet (``ipv4``: an IPv4Config dict for IPAM)."""
        body = {'name': name, 'subnetType': 'VLAN', 'networkId': vlan}
        if ipv4:
            body['ipConfig'] = [{'ipv4': ipv4}]
        task = self.run_ok('POST', NETWORKING + '/subnets', body)
        return self.created(task, 'networking:config:subnet')[0]

    def vg_disks(self, vg_ext_id):
        return self.list('%s/volume-groups/%s/disks' % (VOLUMES, vg_ext_id))

    def vm_disks(self, vm_ext_id):
        vm, _ = self.get('%s/vms/%s' % (VMM, vm_ext_id))
        return [d for d in vm['disks']
                if d['backingInfo']['$objectType'].endswith('VmDisk')]

    def disk_exists(self, disk_ext_id):
        try:
            self.emu.admin.disk_info(disk_ext_id)
        except RuntimeError:
            return False
        return True


def vm_disk(size=None, source=None, bus='SCSI', index=None, container=None):
    backing = {'$objectType': 'vmm.v4.ahv.config.VmDisk'}
    if size is not None:
        backing['diskSizeBytes'] = size
    if source is not None:
        backing['dataSource'] = {'reference': source}
    if container:
        backing['storageContainer'] = {'extId': container}
    disk = {'backingInfo': backing}
    if bus or index is not None:
        disk['diskAddress'] = {'busType': bus}
        if index is not None:
            disk['diskAddress']['index'] = index
    return disk


def image_ref(image_ext_id):
    return {'$objectType': 'vmm.v4.ahv.config.ImageReference',
            'imageExtId': image_ext_id}


def vm_disk_ref(disk_ext_id):
    return {'$objectType': 'vmm.v4.ahv.config.VmDiskReference',
            'diskExtId': disk_ext_id}


def volume_disk_ref(vg_ext_id, disk_ext_id):
    return {'$objectType': 'vmm.v4.ahv.config.VolumeDiskReference',
            'volumeGroupExtId': vg_ext_id, 'diskExtId': disk_ext_id}


def vg_backing(vg_ext_id, index=None):
    disk = {'backingInfo': {
        '$objectType': 'vmm.v4.ahv.config.ADSFVolumeGroupReference',
        'volumeGroupExtId': vg_ext_id}}
    if index is not None:
        disk['diskAddress'] = {'busType': 'SCSI', 'index': index}
    return disk


class SdkTestCase(ApiTestCase):
    """Drives the emulator with Nutanix's official generated SDKs."""

    def sdk(self, module):
        """An ``ApiClient`` of SDK ``module`` configured for the emulator."""
        url = urllib.parse.urlparse(self.emu.endpoint)
        cfg = module.Configuration()
        cfg.host = url.hostname
        cfg.port = url.port
        cfg.scheme = url.scheme
        cfg.username = self.emu.username
        cfg.password = self.emu.password
        cfg.verify_ssl = False
        cfg.max_retry_attempts = 1
        # The emulator has no version-negotiation endpoint; the SDK's paths
        # already name the version it speaks.
        return module.ApiClient(configuration=cfg,
                                allow_version_negotiation=False)

    def sdk_wait(self, response, timeout=30):
        """Wait (with the prism SDK) for the task of a 202 response."""
        ref = response.data
        self.assertEqual('TaskReference', type(ref).__name__)
        if not hasattr(self, '_tasks_api'):
            self._tasks_api = ntnx_prism_py_client.TasksApi(
                api_client=self.sdk(ntnx_prism_py_client))
        deadline = time.time() + timeout
        while True:
            task = self._tasks_api.get_task_by_id(ref.ext_id).data
            if task.status in ('SUCCEEDED', 'FAILED', 'CANCELED'):
                self.assertEqual('SUCCEEDED', task.status,
                                 task.error_messages)
                return task
            if time.time() > deadline:
                self.fail('task %s did not end' % ref.ext_id)
            time.sleep(0.02)

    @staticmethod
    def sdk_created(task, rel):
        return [e.ext_id for e in task.entities_affected if e.rel == rel]

    def assert_parsed(self, obj, cls_name):
        """``obj`` is an SDK model ``cls_name`` with no unknown field.

        Every field the emulator sent landed in a typed SDK attribute.
        """
        self.assertEqual(cls_name, type(obj).__name__)
        self.assertEqual([], unknown_fields(obj))


def unknown_fields(obj, path='', found=None):
    """(path, fields) of every SDK model in ``obj`` with unknown fields."""
    found = [] if found is None else found
    if isinstance(obj, list):
        for i, item in enumerate(obj):
            unknown_fields(item, '%s[%d]' % (path, i), found)
    elif hasattr(obj, 'swagger_types'):
        extra = obj.get_unknown_fields() if hasattr(
            obj, 'get_unknown_fields') else None
        if extra:
            found.append((path or type(obj).__name__, extra))
        for attr in obj.swagger_types:
            if not attr.startswith('_'):
                unknown_fields(getattr(obj, attr), path + '.' + attr, found)
    return found
