"""OpenStackClient plugin: ``openstack nutanix ...`` commands.

Optional at runtime: only ``openstack`` (python-openstackclient, which
brings osc-lib and cliff) loads it, through the ``openstack.cli.extension``
entry point; nothing else in the package imports it.
"""
