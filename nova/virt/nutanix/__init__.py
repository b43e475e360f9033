# Nova loads compute_driver=nutanix.NutanixDriver as nova.virt.nutanix.
from nutanix_openstack.nova.driver import NutanixDriver  # noqa: F401
