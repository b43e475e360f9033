"""``openstack nutanix image import``: a URL fetched by the cluster."""

import logging

from osc_lib.cli import parseractions
from osc_lib.command import command
from osc_lib import exceptions

from nutanix_openstack.i18n import _
from nutanix_openstack.osc import connection
from nutanix_openstack.osc import glance_rest
from nutanix_openstack.osc import importer

LOG = logging.getLogger(__name__)

DISK_FORMATS = ('ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2',
                'vdi', 'iso', 'ploop')
CONTAINER_FORMATS = ('ami', 'ari', 'aki', 'bare', 'docker', 'ova', 'ovf',
                     'compressed')
_SHOWN = ('id', 'name', 'status', 'size', 'disk_format', 'container_format',
          'visibility', 'checksum', 'os_hash_algo', 'os_hash_value', 'stores')


def add_connection_arguments(parser):
    group = parser.add_argument_group(
        _('Nutanix cluster'),
        _('Where the cluster is: these options, else NUTANIX_ENDPOINT, '
          'NUTANIX_USERNAME and NUTANIX_PASSWORD, else the Glance store '
          'configuration (--glance-config/--glance-store).  The password '
          'is only read from NUTANIX_PASSWORD or the Glance '
          'configuration.'))
    group.add_argument('--nutanix-endpoint', metavar='<url>',
                       help=_('Prism endpoint(s), comma separated, e.g. '
                              'https://10.0.0.1:9440'))
    group.add_argument('--nutanix-username', metavar='<username>',
                       help=_('Prism user name'))
    group.add_argument('--nutanix-container', metavar='<container>',
                       help=_('Storage container (name or extId) that must '
                              'exist on the cluster, as the store\'s '
                              'nutanix_storage_container'))
    group.add_argument('--nutanix-cluster', metavar='<cluster>',
                       help=_('Cluster name or extId (default: the only '
                              'cluster that is not Prism Central)'))
    group.add_argument('--nutanix-insecure', action='store_true',
                       help=_('Do not verify the Prism TLS certificate'))
    group.add_argument('--nutanix-ca-file', metavar='<file>',
                       help=_('CA bundle for the Prism certificate'))
    group.add_argument('--glance-config', metavar='<file>',
                       help=_('glance-api.conf whose Nutanix store options '
                              'to use'))
    group.add_argument('--glance-store', metavar='<backend>',
                       help=_('Section of the Nutanix store in '
                              '--glance-config (multi-store backend id; '
                              'default: --store, else [glance_store])'))


class ImportImage(command.ShowOne):
    _description = _(
        'Create a Glance image from a URL that the Nutanix cluster fetches '
        'itself: no byte goes through the client or the Glance node.')

    def get_parser(self, prog_name):
        parser = super(ImportImage, self).get_parser(prog_name)
        parser.add_argument('image_name', metavar='<name>', nargs='?',
                            help=_('Name of the new image'))
        parser.add_argument('--name', metavar='<name>', dest='name_option',
                            help=_('Name of the new image (same as the '
                                   'positional argument)'))
        parser.add_argument('--url', metavar='<url>', required=True,
                            help=_('http(s) URL the cluster downloads'))
        parser.add_argument('--disk-format', metavar='<disk-format>',
                            required=True, choices=DISK_FORMATS,
                            help=_('Disk format; must match the content '
                                   'for the formats the store recognises'
                                   ' (qcow2, vmdk, vhdx, vhd, vdi, qed)'))
        parser.add_argument('--container-format',
                            metavar='<container-format>', default='bare',
                            choices=CONTAINER_FORMATS,
                            help=_('Container format (default: bare)'))
        parser.add_argument('--property', metavar='<key=value>',
                            action=parseractions.KeyValueAction,
                            default={}, help=_('Image property (repeat '
                                               'for several)'))
        visibility = parser.add_mutually_exclusive_group()
        for flag, value in (('--public', 'public'),
                            ('--private', 'private'),
                            ('--community', 'community'),
                            ('--shared', 'shared')):
            visibility.add_argument(
                flag, dest='visibility', action='store_const', const=value,
                help=_('Image is %s') % value)
        parser.add_argument('--store', metavar='<store>',
                            help=_('Glance backend id (multi-store) the '
                                   'location must belong to'))
        parser.add_argument('--wait', action='store_true',
                            help=_('Also wait until Glance has computed '
                                   'checksum and os_hash_value'))
        parser.add_argument('--location-api', default='auto',
                            choices=importer.LOCATION_APIS,
                            help=_('How the location is registered: "add" '
                                   '(POST /v2/images/{id}/locations, needs '
                                   'the service role), "patch" (JSON patch, '
                                   'needs show_multiple_locations), "auto" '
                                   '(add, then patch when refused)'))
        parser.add_argument('--hash-algo', default='sha512',
                            help=_('os_hash_algo computed on the "patch" '
                                   'path (Glance hashing_algorithm)'))
        parser.add_argument('--allow-insecure-url', action='store_true',
                            help=_('Let the cluster fetch an https URL '
                                   'whose certificate it cannot verify'))
        parser.add_argument('--timeout', type=int, default=3600,
                            help=_('Seconds to wait for Glance'))
        add_connection_arguments(parser)
        return parser

    def _report(self, message):
        self.app.stderr.write(message + '\n')
        self.app.stderr.flush()

    def take_action(self, parsed_args):
        name = parsed_args.name_option or parsed_args.image_name
        if not name:
            raise exceptions.CommandError(_('an image name is required'))
        if (parsed_args.name_option and parsed_args.image_name and
                parsed_args.name_option != parsed_args.image_name):
            raise exceptions.CommandError(
                _('--name and <name> differ; give one'))
        fields = dict(parsed_args.property)
        fields.update({'name': name,
                       'disk_format': parsed_args.disk_format,
                       'container_format': parsed_args.container_format})
        if parsed_args.visibility:
            fields['visibility'] = parsed_args.visibility
        try:
            conn = connection.resolve(
                endpoint=parsed_args.nutanix_endpoint,
                username=parsed_args.nutanix_username,
                container=parsed_args.nutanix_container,
                cluster=parsed_args.nutanix_cluster,
                insecure=parsed_args.nutanix_insecure,
                ca_file=parsed_args.nutanix_ca_file,
                glance_config=parsed_args.glance_config,
                glance_store=(parsed_args.glance_store or
                              (parsed_args.store if parsed_args.glance_config
                               else None)))
            prism = conn.make_client()
        except (connection.ConnectionError_, ValueError) as e:
            raise exceptions.CommandError(str(e))
        LOG.debug('Nutanix cluster from %s', conn.source)
        try:
            job = importer.UrlImport(
                glance_rest.GlanceImages(self.app.client_manager.image),
                prism, self._report, location_api=parsed_args.location_api,
                hash_algo=parsed_args.hash_algo,
                allow_insecure_url=parsed_args.allow_insecure_url,
                timeout=parsed_args.timeout)
            image = job.run(parsed_args.url, fields, store=parsed_args.store,
                            wait=parsed_args.wait, container=conn.container)
        except (importer.ImportFailed, ValueError) as e:
            raise exceptions.CommandError(
                _('Import from %(u)s failed: %(e)s') %
                {'u': parsed_args.url, 'e': e})
        finally:
            prism.close()
        shown = dict((k, image.get(k)) for k in _SHOWN)
        shown['location_api'] = job.method_used
        return zip(*sorted(shown.items()))
