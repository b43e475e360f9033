"""Image types and disk formats: which backend image type keeps bytes as sent.

The one module for image-format knowledge: the backend image types, the
formats recognised from the first bytes, and the Glance disk formats a
cluster image of which can be cloned into a bootable disk.  The Glance
store, the CLI import and the Cinder driver read it; it imports nothing, so
the Glance store loads it without the HTTP stack.


The cluster's image service (and the emulator, like it) converts a
DISK_IMAGE whose bytes are a container format such as qcow2, vmdk or vhdx
into a raw disk on import, while an ISO_IMAGE is kept byte for byte.
Glance's ``checksum`` and ``os_hash_value`` are of the bytes it sent, so
the store uploads any recognised container format as ISO_IMAGE; Cinder and
Nova get a bootable raw disk from
``client.images.ensure_disk_image()`` (derived once, deleted with the
source by this store).  Raw disks and ISOs (nothing to convert) are
uploaded as DISK_IMAGE and are their own bootable disk.

The list is deliberately a superset of what the emulator converts (vhd,
vdi and qed too): uploading as ISO_IMAGE never changes bytes, while
uploading a format the real cluster does convert as DISK_IMAGE would.
"""

DISK_IMAGE = 'DISK_IMAGE'
ISO_IMAGE = 'ISO_IMAGE'

#: Container formats the cluster converts to a raw disk (and checks
#: first): the store has the cluster derive that disk at upload time, so a
#: damaged image is refused at the door (see the Glance store's
#: ``_verify_on_cluster``).
CLUSTER_CONVERTS = ('qcow2', 'vmdk', 'vhdx')

#: Glance disk formats whose cluster image gives a bootable raw disk to
#: clone: raw as it is, the others converted once by the cluster (see
#: ``ImagesAPI.ensure_disk_image``).
CLONEABLE_DISK_FORMATS = ('raw', 'qcow2', 'vmdk', 'vhdx')

#: Glance disk formats Nova boots as a disk (and declares as image type
#: traits).  The cluster also converts vmdk and vhdx, but those are not
#: declared (and so not scheduled to Nova) until tested end to end.
BOOTABLE_DISK_FORMATS = ('raw', 'qcow2')

#: The Glance disk format mounted as a CD-ROM.
ISO_DISK_FORMAT = 'iso'

#: Bytes needed to recognise every format below.
SNIFF_BYTES = 512

# (format name, offset, magic)
_MAGICS = (
    ('qcow2', 0, b'QFI\xfb'),
    ('qed', 0, b'QED\x00'),
    ('vmdk', 0, b'KDMV'),
    ('vmdk', 0, b'COWD'),
    ('vmdk', 0, b'# Disk DescriptorFile'),
    ('vhdx', 0, b'vhdxfile'),
    # dynamic and differencing VHDs start with a copy of their footer
    ('vhd', 0, b'conectix'),
    ('vdi', 64, b'\x7f\x10\xda\xbe'),
)

#: Disk formats :func:`sniff_format` recognises.
SNIFFABLE_FORMATS = tuple(sorted({name for name, _, _ in _MAGICS}))


def sniff_format(head):
    """The container format of an image from its first bytes, or None.

    :param head: the first bytes of the image (at least ``SNIFF_BYTES``
        unless the image is shorter)
    """
    for name, offset, magic in _MAGICS:
        if head[offset:offset + len(magic)] == magic:
            return name
    return None


def backend_image_type(head):
    """Backend image type and sniffed format for an image.

    :returns: ``(image_type, format)`` under which an image starting with
        ``head`` is uploaded so that the cluster keeps its bytes unchanged.
    """
    fmt = sniff_format(head)
    return (ISO_IMAGE if fmt else DISK_IMAGE), (fmt or 'raw')
