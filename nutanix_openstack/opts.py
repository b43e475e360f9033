"""oslo-config-generator entry points, one per namespace.

Each function imports its module lazily so that generating the sample
config of one service never needs another service installed.
"""


def list_prism_opts():
    from nutanix_openstack.prism import options
    return options.list_opts()


def list_glance_opts():
    from nutanix_openstack.glance import options
    return options.list_opts()


def list_cinder_opts():
    from nutanix_openstack.cinder import options
    return options.list_opts()


def list_nova_opts():
    from nutanix_openstack.nova import conf
    return conf.list_opts()


def list_emulator_opts():
    from nutanix_openstack.emulator import config
    return config.list_opts()


def list_neutron_opts():
    from nutanix_openstack.neutron import config
    return config.list_opts()
