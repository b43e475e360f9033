# Sphinx configuration of the nutanix-openstack documentation.
project = 'nutanix-openstack'
copyright = 'nutanix-openstack developers'
extensions = []
master_doc = 'index'
exclude_patterns = []
html_theme = 'alabaster'
