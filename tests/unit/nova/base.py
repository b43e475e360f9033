"""Unit-test helpers: a mocked PrismClient and Nova objects without a DB."""

import functools
import unittest
from unittest import mock

from nova import objects
from oslo_utils import uuidutils

from nutanix_openstack.prism import client as prism_client
from nutanix_openstack.prism import clusters as prism_clusters
from nutanix_openstack.prism import images as prism_images
from nutanix_openstack.prism import subnets as prism_subnets
from nutanix_openstack.prism import vms as prism_vms
from nutanix_openstack.prism import volume_groups as prism_vgs

objects.register_all()

CLUSTER = 'cluster-1'
CONTAINER = 'container-1'
GiB = 1024 ** 3
MiB = 1024 ** 2


def make_client():
    """A PrismClient mock whose resource APIs only accept real methods."""
    client = mock.Mock(spec=prism_client.PrismClient)
    client.images = mock.Mock(spec=prism_images.ImagesAPI)
    client.images.find_by_name.return_value = []
    client.vms = mock.Mock(spec=prism_vms.VmsAPI)
    # The lookup by name is the client's own, over the mocked vms.list.
    client.vms.find_by_name.side_effect = functools.partial(
        prism_vms.VmsAPI.find_by_name, client.vms)
    client.volume_groups = mock.Mock(spec=prism_vgs.VolumeGroupsAPI)
    client.clusters = mock.Mock(spec=prism_clusters.ClustersAPI)
    client.subnets = mock.Mock(spec=prism_subnets.SubnetsAPI)
    client.cluster_ext_id = mock.Mock(return_value=CLUSTER)
    return client


def make_flavor(**kw):
    values = dict(vcpus=2, memory_mb=1024, root_gb=10, ephemeral_gb=0,
                  swap=0, extra_specs={}, name='m1', flavorid='1')
    values.update(kw)
    return objects.Flavor(**values)


def make_instance(**kw):
    values = dict(uuid=uuidutils.generate_uuid(), id=7,
                  flavor=make_flavor(), user_data=None, key_data=None,
                  key_name=None, metadata={}, launch_index=0,
                  hostname='vm1', display_name='vm one',
                  availability_zone='nova', project_id='proj',
                  system_metadata={}, task_state=None, vm_state='active')
    values.update(kw)
    return objects.Instance(**values)


def vm_dict(instance, ext_id='vm-1', power='ON', disks=None, **kw):
    vm = {'extId': ext_id, 'name': instance.uuid,
          'description': 'OpenStack Nova instance ' + instance.name,
          'powerState': power, 'numSockets': instance.flavor.vcpus,
          'numCoresPerSocket': 1,
          'memorySizeBytes': instance.flavor.memory_mb * MiB,
          'disks': disks if disks is not None else [root_disk()]}
    vm.update(kw)
    return vm


def root_disk(ext_id='disk-root', size=10 * GiB):
    return {'extId': ext_id,
            'diskAddress': {'busType': 'SCSI', 'index': 0},
            'backingInfo': {'diskSizeBytes': size}}


def vg_disk(vg_ext_id, index=5):
    return {'extId': 'vgdisk-' + vg_ext_id,
            'diskAddress': {'busType': 'SCSI', 'index': index},
            'backingInfo': {'volumeGroupExtId': vg_ext_id}}


class TestCase(unittest.TestCase):

    def setUp(self):
        super().setUp()
        self.client = make_client()

    def expect_vm(self, vm):
        """vms.list/get answer with this VM (or nothing for None)."""
        self.client.vms.list.return_value = [vm] if vm else []
        self.client.vms.get.return_value = vm
