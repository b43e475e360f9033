"""oslo.i18n integration: ``_()`` marks user-facing messages only."""

import oslo_i18n

DOMAIN = 'nutanix_openstack'

_translators = oslo_i18n.TranslatorFactory(domain=DOMAIN)

# The primary translation function using the well-known name "_"
_ = _translators.primary
