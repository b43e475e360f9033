"""DiskStore copy-on-write: clones, layers, delete, flatten, clone cost."""

import os
import random
import sqlite3
import statistics
import time

from nutanix_openstack.emulator import storage
from tests.unit.emulator import backends
from tests.unit.emulator import test_storage

MiB = 1024 * 1024
GiB = 1024 * MiB
pattern = test_storage.pattern


class CowTestCase(test_storage.StoreTestCase):

    def assertContent(self, expected, disk_id):
        self.assertEqual(len(expected), self.store.size(disk_id))
        self.assertEqual(bytes(expected),
                         self.store.read(disk_id, 0, len(expected)),
                         'content of %s' % disk_id)

    def assertConsistent(self):
        """Reference counts match the users; nothing is left to merge."""
        db = sqlite3.connect(os.path.join(self.root, 'disks.sqlite'))
        self.addCleanup(db.close)
        layers = dict(db.execute('SELECT id, refs FROM layers'))
        users = dict.fromkeys(layers, 0)
        child_layers = dict.fromkeys(layers, 0)
        for (head,) in db.execute('SELECT head FROM disks'):
            users[head] += 1
        for (parent,) in db.execute('SELECT parent FROM layers '
                                    'WHERE parent IS NOT NULL'):
            users[parent] += 1
            child_layers[parent] += 1
        self.assertEqual(users, layers)
        mergeable = [layer for layer, refs in layers.items()
                     if refs == 1 and child_layers[layer] == 1]
        self.assertEqual([], mergeable)
        orphans = db.execute('SELECT COUNT(*) FROM chunks WHERE layer '
                             'NOT IN (SELECT id FROM layers)').fetchone()
        self.assertEqual((0,), orphans)


class TestIsolation(CowTestCase):

    def setUp(self):
        super(TestIsolation, self).setUp()
        cs = self.chunk_size
        self.size = 6 * cs + 10
        self.base = bytearray(pattern(self.size))
        self.base[2 * cs:3 * cs] = bytes(cs)      # a hole in the parent
        self.store.create('src', self.size)
        self.store.write('src', 0, self.base)

    def test_clone_reads_like_its_source(self):
        self.store.clone('src', 'c')
        self.assertContent(self.base, 'c')
        self.assertEqual(0, self.store.allocated_bytes('c'))
        self.assertEqual(2, len(self.store.chain('c')))
        if self.local:      # the source's data moved into a frozen layer
            self.assertEqual(self.store.chain('src')[1:],
                             self.store.chain('c')[1:])

    def test_writes_after_clone_stay_in_their_disk(self):
        cs = self.chunk_size
        self.store.clone('src', 'c1')
        self.store.clone('src', 'c2')
        src, c1, c2 = (bytearray(self.base) for _ in range(3))
        for disk, model, offset, data in (
                ('src', src, cs - 2, b'parent-after-clone'),
                ('c1', c1, 2 * cs + 5, b'into-the-parent-hole'),
                ('c2', c2, 4 * cs, b'\x00' * (cs + 3)),
                ('c1', c1, 0, pattern(cs, seed=9))):
            self.store.write(disk, offset, data)
            model[offset:offset + len(data)] = data
        self.assertContent(src, 'src')
        self.assertContent(c1, 'c1')
        self.assertContent(c2, 'c2')

    def test_zeros_over_inherited_data_read_back_as_zeros(self):
        cs = self.chunk_size
        self.store.clone('src', 'c')
        self.store.write('c', cs, bytes(cs))          # a whole chunk
        self.store.write('c', 3 * cs + 1, bytes(cs))  # two partial ones
        model = bytearray(self.base)
        model[cs:2 * cs] = bytes(cs)
        model[3 * cs + 1:4 * cs + 1] = bytes(cs)
        self.assertContent(model, 'c')
        self.assertContent(self.base, 'src')
        # The whole chunk is a tombstone, the partial ones hold data.
        if self.local:
            self.assertEqual(1, self.store.stats()['tombstones'])
        # Data again over the tombstone, then zeros again.
        self.store.write('c', cs, b'back')
        model[cs:cs + 4] = b'back'
        self.assertContent(model, 'c')
        self.store.write('c', cs, bytes(4))
        model[cs:cs + 4] = bytes(4)
        self.assertContent(model, 'c')

    def test_zeros_over_a_hole_of_the_parent_store_nothing(self):
        cs = self.chunk_size
        self.store.clone('src', 'c')
        self.store.write('c', 2 * cs, bytes(cs))
        self.assertEqual(0, self.store.stats()['tombstones'])
        self.assertEqual(bytes(cs), self.store.read('c', 2 * cs, cs))
        if self.local:
            # RBD's zeroing of a clone's whole object leaves an empty
            # object there, hole in the parent or not.
            self.assertEqual(0, self.store.allocated_bytes('c'))

    def test_clone_may_be_larger_but_not_smaller(self):
        cs = self.chunk_size
        self.assertRaises(ValueError, self.store.clone, 'src', 'small',
                          self.size - 1)
        self.assertFalse(self.store.exists('small'))
        self.store.clone('src', 'big', self.size + 3 * cs)
        self.assertContent(self.base + bytes(3 * cs), 'big')
        self.store.write('big', self.size, b'more')
        self.assertContent(self.base, 'src')
        # The source grows too, independently.
        self.store.resize('src', self.size + cs)
        self.assertContent(self.base + bytes(cs), 'src')

    def test_clone_onto_an_existing_id_is_refused(self):
        self.store.create('taken', 10)
        chain = self.store.chain('src')
        self.assertRaises(storage.DiskExists, self.store.clone, 'src',
                          'taken')
        self.assertEqual(chain, self.store.chain('src'))
        self.assertEqual(10, self.store.size('taken'))

    def test_repeated_clones_of_an_unchanged_disk_share_one_layer(self):
        for i in range(20):
            self.store.clone('src', 'vm%d' % i)
        self.assertEqual(2, len(self.store.chain('vm19')))
        if self.local:
            self.assertEqual(2, len(self.store.chain('src')))
            # One frozen layer, the source's head and 20 clone heads.
            self.assertEqual(22, self.store.stats()['layers'])
        else:
            # RBD: 21 images, each clone on its own snapshot of src.
            self.assertEqual(21, self.store.stats()['layers'])
            self.assertEqual(1, len(self.store.chain('src')))

    def test_snapshot_chain(self):
        # A snapshot is a clone; snapshots of a disk in use stack up.
        model = bytearray(self.base)
        snaps = []
        for i in range(5):
            self.store.write('src', i * 100, b'gen%d' % i)
            model[i * 100:i * 100 + 4] = b'gen%d' % i
            self.store.clone('src', 'snap%d' % i)
            snaps.append(bytes(model))
        self.store.write('src', 0, b'live')
        for i, expected in enumerate(snaps):
            self.assertContent(expected, 'snap%d' % i)
        # Five frozen layers under the live head (RBD: five snapshots of
        # the one image).
        self.assertEqual(6 if self.local else 1,
                         len(self.store.chain('src')))


class TestDeleteAndFlatten(CowTestCase):

    def setUp(self):
        super(TestDeleteAndFlatten, self).setUp()
        cs = self.chunk_size
        self.size = 5 * cs
        self.data = pattern(self.size)
        self.store.create('parent', self.size)
        self.store.write('parent', 0, self.data)

    def test_children_survive_their_parent(self):
        self.store.clone('parent', 'child')
        self.store.clone('child', 'grandchild')
        self.store.write('child', 0, b'child')
        self.store.delete('parent')
        self.assertFalse(self.store.exists('parent'))
        self.assertContent(b'child' + self.data[5:], 'child')
        self.assertContent(self.data, 'grandchild')
        self.store.delete('child')
        self.assertContent(self.data, 'grandchild')

    def test_deleting_everything_frees_everything(self):
        cs = self.chunk_size
        self.store.clone('parent', 'a')
        self.store.clone('a', 'b')
        self.store.write('a', cs, b'a' * cs)
        self.store.write('b', 0, bytes(cs))
        self.store.clone('b', 'c', self.size + cs)
        self.store.write('c', self.size, b'c')
        for disk in ('a', 'parent', 'c', 'b'):
            self.store.delete(disk)
            self.assertConsistent()
        self.assertNothingStored()

    def test_flatten(self):
        self.store.clone('parent', 'child')
        self.store.write('child', 10, b'own')
        self.store.write('child', self.chunk_size, bytes(self.chunk_size))
        expected = self.store.read('child', 0, self.size)
        self.store.flatten('child')
        self.assertEqual(1, len(self.store.chain('child')))
        self.assertContent(expected, 'child')
        self.assertEqual(0, self.store.stats()['tombstones'])
        self.store.delete('parent')
        self.assertContent(expected, 'child')
        self.assertConsistent()
        if self.local:
            # Only the child's own chunks are left: four of five hold
            # data (RBD's flatten keeps the zeroed one as an empty object).
            self.assertEqual(4 * self.chunk_size,
                             self.store.allocated_bytes('child'))
            self.assertEqual(dict(disks=1, layers=1, chunks=4,
                                  bytes_stored=4 * self.chunk_size,
                                  tombstones=0), self.store.stats())
        else:
            self.assertEqual(1, self.store.stats()['layers'])
        # Writing to the flattened disk does not disturb anything else.
        self.store.write('child', 0, b'new')
        self.assertEqual(b'new', self.store.read('child', 0, 3))

    def test_flatten_keeps_the_parent_and_siblings_intact(self):
        self.store.clone('parent', 'a')
        self.store.clone('parent', 'b')
        self.store.flatten('a')
        self.store.write('a', 0, b'aaaa')
        self.assertContent(self.data, 'parent')
        self.assertContent(self.data, 'b')
        self.assertContent(b'aaaa' + self.data[4:], 'a')
        self.store.flatten('parent')    # a no-op for a single-layer disk


class TestCollapse(CowTestCase):
    """Deleting disks merges layers nobody else needs."""

    def setUp(self):
        super(TestCollapse, self).setUp()
        self.size = 8 * self.chunk_size

    def chunk(self, i, data):
        return (i * self.chunk_size, data)

    def make(self, name, writes, model=None):
        if model is None:
            self.store.create(name, self.size)
            model = bytearray(self.size)
        for offset, data in writes:
            self.store.write(name, offset, data)
            model[offset:offset + len(data)] = data
        return model

    def test_snapshot_rotation_keeps_the_chain_short(self):
        model = self.make('vol', [(0, pattern(self.size))])
        snaps = {}
        for i in range(12):
            self.make('vol', [(i * 1000, b'gen%02d' % i)], model)
            self.store.clone('vol', 'snap%d' % i)
            snaps[i] = bytes(model)
            if i >= 2:      # keep the last two snapshots
                self.store.delete('snap%d' % (i - 2))
                del snaps[i - 2]
            self.assertConsistent()
            self.assertLessEqual(len(self.store.chain('vol')), 4)
        for i, expected in snaps.items():
            self.assertContent(expected, 'snap%d' % i)
        self.assertContent(model, 'vol')

    def test_image_deleted_under_its_only_clone(self):
        image = self.make('image', [(0, pattern(self.size))])
        self.store.clone('image', 'vm')
        vm = self.make('vm', [(5, b'vm data'),
                              self.chunk(3, bytes(self.chunk_size))],
                       bytearray(image))
        self.store.delete('image')
        self.assertConsistent()
        self.assertContent(vm, 'vm')
        if self.local:
            # Merged into one layer (RBD keeps the image in its trash).
            self.assertEqual(1, len(self.store.chain('vm')))
            self.assertEqual(dict(disks=1, layers=1, chunks=7,
                                  bytes_stored=7 * self.chunk_size,
                                  tombstones=0), self.store.stats())
        self.store.delete('vm')
        self.assertNothingStored()

    def _three_levels(self, grand_writes, parent_writes, child_writes):
        """grand <- parent <- child, each frozen under a disk's head."""
        model = self.make('g', grand_writes)
        self.store.clone('g', 'p')
        model = self.make('p', parent_writes, bytearray(model))
        self.store.clone('p', 'c')
        model = self.make('c', child_writes, bytearray(model))
        self.store.clone('c', 'leaf')
        return bytes(model)

    def _check_merge(self, expected):
        # Deleting p and c leaves p's frozen layer with one child layer.
        before = len(self.store.chain('leaf'))
        self.store.delete('p')
        self.store.delete('c')
        self.assertConsistent()
        if self.local:      # RBD does not merge images
            self.assertLess(len(self.store.chain('leaf')), before)
        self.assertContent(expected, 'leaf')
        self.store.delete('g')
        self.assertConsistent()
        if self.local:
            self.assertEqual(1, len(self.store.chain('leaf')))
        self.assertContent(expected, 'leaf')
        self.store.delete('leaf')
        self.assertNothingStored()

    def test_merge_small_child_into_parent(self):
        zeros = bytes(self.chunk_size)
        expected = self._three_levels(
            [self.chunk(i, b'g' * self.chunk_size) for i in range(8)],
            [self.chunk(i, b'p' * self.chunk_size) for i in range(1, 7)],
            [self.chunk(1, zeros), self.chunk(2, b'c'),
             self.chunk(6, zeros)])
        self._check_merge(expected)

    def test_merge_small_parent_into_child(self):
        zeros = bytes(self.chunk_size)
        expected = self._three_levels(
            [self.chunk(i, b'g' * self.chunk_size) for i in range(8)],
            [self.chunk(1, zeros), self.chunk(2, b'p')],
            [self.chunk(i, b'c' * 100) for i in range(3, 8)])
        self._check_merge(expected)

    def test_tombstones_over_holes_are_dropped_in_a_merge(self):
        expected = self._three_levels(
            [self.chunk(0, b'g')],
            [self.chunk(2, b'p' * self.chunk_size)],
            [self.chunk(2, bytes(self.chunk_size)), self.chunk(0, b'c')])
        self._check_merge(expected)
        self.assertEqual(0, self.store.stats()['tombstones'])


class TestRandomizedModel(CowTestCase):
    """Random operations against an in-memory model of every disk."""

    chunk_size = 16

    def _run(self, seed, steps=400):
        rng = random.Random(seed)
        models = {}
        names = iter('d%d' % i for i in range(10 ** 6))

        def random_bytes(n):
            kind = rng.random()
            if kind < 0.3:
                return bytes(n)
            if kind < 0.5:
                return bytes([rng.randrange(1, 256)]) * n
            return bytes(rng.randrange(256) for _ in range(n))

        for _step in range(steps):
            op = rng.random()
            if not models or op < 0.08:
                name = next(names)
                size = rng.randrange(0, 200)
                self.store.create(name, size)
                models[name] = bytearray(size)
                continue
            name = rng.choice(sorted(models))
            model = models[name]
            if op < 0.5:
                offset = rng.randrange(0, len(model) + 1)
                data = random_bytes(rng.randrange(0, len(model) - offset + 1))
                self.store.write(name, offset, data)
                model[offset:offset + len(data)] = data
            elif op < 0.65:
                new = next(names)
                grow = rng.choice((0, 0, rng.randrange(0, 60)))
                self.store.clone(name, new, len(model) + grow)
                models[new] = bytearray(model) + bytearray(grow)
            elif op < 0.72:
                self.store.delete(name)
                del models[name]
            elif op < 0.77:
                self.store.flatten(name)
                self.assertEqual(1, len(self.store.chain(name)))
            elif op < 0.82:
                grow = rng.randrange(0, 40)
                self.store.resize(name, len(model) + grow)
                model.extend(bytes(grow))
            elif op < 0.9:
                offset = rng.randrange(0, len(model) + 1)
                data = random_bytes(rng.randrange(0, 80))
                pieces = [data[i:i + 7] for i in range(0, len(data), 7)]
                self.store.write_stream(name, pieces, offset=offset)
                end = offset + len(data)
                if end > len(model):
                    model.extend(bytes(end - len(model)))
                model[offset:end] = data
            else:
                offset = rng.randrange(0, len(model) + 1)
                length = rng.randrange(0, 50)
                self.assertEqual(bytes(model[offset:offset + length]),
                                 self.store.read(name, offset, length))
            if _step % 20 == 0:
                self.assertConsistent()
        self.assertConsistent()
        for name, model in models.items():
            self.assertContent(model, name)
        for name in list(models):
            self.store.delete(name)
        self.assertNothingStored()

    def test_seeds(self):
        # RBD: one seed (about 35 s), the one that once found a trashed
        # parent left behind.
        for seed in (range(6) if self.local else (1,)):
            self._run(seed)
            self.assertEqual(0, self.store.sweep())


class TestCloneCost(CowTestCase):
    """Clone and snapshot cost metadata only, whatever the disk's size."""

    chunk_size = storage.DEFAULT_CHUNK_SIZE

    def _median_clone_ms(self, disk_id, runs=7):
        times = []
        for i in range(runs):
            # Dirty the head so every clone really freezes a layer.
            self.store.write(disk_id, i * 4096, b'dirty')
            start = time.perf_counter()
            self.store.clone(disk_id, '%s-clone%d' % (disk_id, i))
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)

    def test_clone_time_does_not_depend_on_size(self):
        cs = self.chunk_size
        self.store.create('small', MiB)
        self.store.write('small', 0, pattern(MiB))
        self.store.create('big', GiB)
        # A chunk of data every 64 MiB: 16 chunks over the whole 1 GiB.
        for offset in range(0, GiB, 64 * MiB):
            self.store.write('big', offset, pattern(cs, seed=offset))
        self.assertEqual(GiB, self.store.size('big'))
        small_ms = self._median_clone_ms('small')
        big_ms = self._median_clone_ms('big')
        self.assertLess(small_ms, 50)
        self.assertLess(big_ms, 50)
        self.assertLess(big_ms, 5 * small_ms + 2,
                        'clone of 1 GiB: %.2f ms, of 1 MiB: %.2f ms'
                        % (big_ms, small_ms))
        # And the clones hold the data.
        self.assertEqual(pattern(cs, seed=512 * MiB)[:64],
                         self.store.read('big-clone6', 512 * MiB, 64))


TestIsolationRbd = backends.rbd_variant(TestIsolation)
TestDeleteAndFlattenRbd = backends.rbd_variant(TestDeleteAndFlatten)
TestCollapseRbd = backends.rbd_variant(TestCollapse)
TestRandomizedModelRbd = backends.rbd_variant(TestRandomizedModel)
# Clone cost on RBD: benchmarks/ (64 MiB against 4 GiB).
