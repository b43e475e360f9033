"""The client facade keeps every public name and signature of the contract.

CONTRACT lists, per class, each method of the agreed
``nutanix_openstack/prism/client.py`` with its parameters and defaults in
order (taken from the contract as first committed).  Implementations may add
parameters after them, never change or drop one.
"""

import inspect
import unittest

from nutanix_openstack.prism import client

REQUIRED = '<required>'

CONTRACT = {'ClustersAPI': {'container_capacity': [('ext_id', '<required>')],
                            'find_storage_container': [('name_or_ext_id',
                                                        '<required>'),
                                                       ('cluster_ext_id',
                                                        None)],
                            'get_cluster': [('ext_id', '<required>')],
                            'get_host': [('cluster_ext_id', '<required>'),
                                         ('host_ext_id', '<required>')],
                            'get_storage_container': [('ext_id',
                                                       '<required>')],
                            'list_clusters': [('filter', None)],
                            'list_hosts': [('cluster_ext_id', None)],
                            'list_storage_containers': [('filter', None)]},
            'ImagesAPI': {'create_for_upload': [('name', '<required>'),
                                                ('image_type', 'DISK_IMAGE'),
                                                ('description', None),
                                                ('cluster_ext_id', None)],
                          'create_from_url': [('name', '<required>'),
                                              ('url', '<required>'),
                                              ('image_type', 'DISK_IMAGE'),
                                              ('description', None),
                                              ('cluster_ext_ids', None),
                                              ('allow_insecure_url', False),
                                              ('wait', True),
                                              ('progress_callback', None)],
                          'create_from_vm_disk': [('name', '<required>'),
                                                  ('vm_ext_id',
                                                   '<required>'),
                                                  ('disk_ext_id',
                                                   '<required>'),
                                                  ('image_type',
                                                   'DISK_IMAGE'),
                                                  ('description', None),
                                                  ('cluster_ext_ids', None),
                                                  ('wait', True),
                                                  ('progress_callback',
                                                   None)],
                          'delete': [('ext_id', '<required>'),
                                     ('wait', True)],
                          'download': [('ext_id', '<required>'),
                                       ('offset', 0),
                                       ('length', None),
                                       ('chunk_size', None)],
                          'ensure_disk_image': [('ext_id', '<required>'),
                                                ('progress_callback', None)],
                          'get': [('ext_id', '<required>')],
                          'list': [('filter', None),
                                   ('limit', None),
                                   ('orderby', None)],
                          'update': [('ext_id', '<required>')],
                          'upload': [('ext_id', '<required>'),
                                     ('data_iter', '<required>'),
                                     ('size', None),
                                     ('progress_callback', None)]},
            'PrismClient': {'__init__': [('endpoints', '<required>'),
                                         ('username', '<required>'),
                                         ('password', '<required>'),
                                         ('verify', True),
                                         ('ca_file', None),
                                         ('connect_timeout', 10),
                                         ('read_timeout', 120),
                                         ('retries', 3),
                                         ('retry_interval', 1.0),
                                         ('task_timeout', 3600),
                                         ('task_poll_interval', 1.0),
                                         ('chunk_size', 4194304)],
                            'from_conf': [('conf_group', '<required>'),
                                          ('prefix', '')]},
            'RecoveryPointsAPI': {'create': [('name', '<required>'),
                                             ('vm_ext_ids', ()),
                                             ('volume_group_ext_ids', ()),
                                             ('recovery_point_type',
                                              'CRASH_CONSISTENT'),
                                             ('expiration_time', None),
                                             ('wait', True)],
                                  'delete': [('ext_id', '<required>'),
                                             ('wait', True)],
                                  'get': [('ext_id', '<required>')],
                                  'list': [('filter', None),
                                           ('limit', None)],
                                  'restore': [('ext_id', '<required>'),
                                              ('volume_group_overrides',
                                               None),
                                              ('vm_overrides', None),
                                              ('wait', True)]},
            'TasksAPI': {'get': [('ext_id', '<required>')],
                         'wait': [('ext_id', '<required>'),
                                  ('timeout', None),
                                  ('progress_callback', None)]},
            'VmsAPI': {'add_disk': [('vm_ext_id', '<required>'),
                                    ('disk', '<required>'),
                                    ('wait', True)],
                       'console_token': [('ext_id', '<required>')],
                       'create': [('name', '<required>'),
                                  ('num_sockets', 1),
                                  ('num_cores_per_socket', 1),
                                  ('memory_size_bytes', None),
                                  ('disks', ()),
                                  ('cd_roms', ()),
                                  ('nics', ()),
                                  ('guest_customization', None),
                                  ('description', None),
                                  ('cluster_ext_id', None),
                                  ('boot_config', None),
                                  ('wait', True)],
                       'delete': [('ext_id', '<required>'), ('wait', True)],
                       'delete_disk': [('vm_ext_id', '<required>'),
                                       ('disk_ext_id', '<required>'),
                                       ('wait', True)],
                       'get': [('ext_id', '<required>')],
                       'list': [('filter', None), ('limit', None)],
                       'list_disks': [('vm_ext_id', '<required>')],
                       'migrate_to_host': [('ext_id', '<required>'),
                                           ('host_ext_id', '<required>'),
                                           ('wait', True)],
                       'power_off': [('ext_id', '<required>'),
                                     ('wait', True)],
                       'power_on': [('ext_id', '<required>'),
                                    ('wait', True)],
                       'reboot': [('ext_id', '<required>'), ('wait', True)],
                       'reset': [('ext_id', '<required>'), ('wait', True)],
                       'resize_disk': [('vm_ext_id', '<required>'),
                                       ('disk_ext_id', '<required>'),
                                       ('size_bytes', '<required>'),
                                       ('wait', True)],
                       'shutdown': [('ext_id', '<required>'),
                                    ('wait', True)],
                       'update': [('ext_id', '<required>')]},
            'VolumeGroupsAPI': {'add_disk': [('vg_ext_id', '<required>'),
                                             ('disk', '<required>'),
                                             ('wait', True)],
                                'attach_iscsi_client': [('vg_ext_id',
                                                         '<required>'),
                                                        ('initiator_name',
                                                         '<required>'),
                                                        ('chap_secret',
                                                         None),
                                                        ('wait', True)],
                                'attach_vm': [('vg_ext_id', '<required>'),
                                              ('vm_ext_id', '<required>'),
                                              ('wait', True)],
                                'create': [('name', '<required>'),
                                           ('disks', ()),
                                           ('description', None),
                                           ('sharing_status', None),
                                           ('target_prefix', None),
                                           ('cluster_ext_id', None),
                                           ('wait', True)],
                                'delete': [('ext_id', '<required>'),
                                           ('wait', True)],
                                'delete_disk': [('vg_ext_id', '<required>'),
                                                ('disk_ext_id',
                                                 '<required>'),
                                                ('wait', True)],
                                'detach_iscsi_client': [('vg_ext_id',
                                                         '<required>'),
                                                        ('initiator_name',
                                                         '<required>'),
                                                        ('wait', True)],
                                'detach_vm': [('vg_ext_id', '<required>'),
                                              ('vm_ext_id', '<required>'),
                                              ('wait', True)],
                                'get': [('ext_id', '<required>')],
                                'list': [('filter', None), ('limit', None)],
                                'list_disks': [('vg_ext_id', '<required>')],
                                'list_iscsi_attachments': [('vg_ext_id',
                                                            '<required>')],
                                'list_vm_attachments': [('vg_ext_id',
                                                         '<required>')],
                                'resize_disk': [('vg_ext_id', '<required>'),
                                                ('disk_ext_id',
                                                 '<required>'),
                                                ('size_bytes', '<required>'),
                                                ('wait', True)],
                                'revert': [('vg_ext_id', '<required>'),
                                           ('volume_group_recovery_point_ext_id',  # noqa: E501
                                            '<required>'),
                                           ('wait', True)],
                                'update': [('ext_id', '<required>')]}}


class ContractTest(unittest.TestCase):

    def test_signatures_are_kept(self):
        for cls_name, methods in CONTRACT.items():
            cls = getattr(client, cls_name)
            for name, params in methods.items():
                fn = getattr(cls, name)
                if name == 'from_conf':
                    fn = fn.__func__
                got = list(inspect.signature(fn).parameters.values())[1:]
                self.assertGreaterEqual(len(got), len(params),
                                        '%s.%s' % (cls_name, name))
                for (pname, default), param in zip(params, got):
                    where = '%s.%s(%s)' % (cls_name, name, pname)
                    self.assertEqual(pname, param.name, where)
                    if default == REQUIRED:
                        self.assertIs(inspect.Parameter.empty, param.default,
                                      where)
                    else:
                        self.assertEqual(default, param.default, where)
                for extra in got[len(params):]:
                    # Additions must not break positional callers.
                    self.assertTrue(
                        extra.default is not inspect.Parameter.empty or
                        extra.kind == inspect.Parameter.VAR_KEYWORD,
                        '%s.%s(%s)' % (cls_name, name, extra.name))

    def test_client_exposes_resources(self):
        c = client.PrismClient(['h'], 'u', 'p')
        for attr, cls in [('images', client.ImagesAPI),
                          ('vms', client.VmsAPI),
                          ('volume_groups', client.VolumeGroupsAPI),
                          ('recovery_points', client.RecoveryPointsAPI),
                          ('clusters', client.ClustersAPI),
                          ('tasks', client.TasksAPI)]:
            self.assertIsInstance(getattr(c, attr), cls)
        self.assertTrue(client.derived_disk_image_name('x'))
