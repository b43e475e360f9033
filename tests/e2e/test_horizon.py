"""The operator's day in the dashboard, in a real headless Chromium.

Horizon (PyPI, under gunicorn on loopback, ``quickstart/horizon.py``) is
driven with Selenium through Debian's ``chromium`` and ``chromium-driver``
(no browser download at run time): log in, create an image from a file and
one from a URL, create a volume from the image, snapshot it, launch an
instance from the image on the provider network (its port an AHV NIC),
attach the volume to it, open its console (noVNC from nova-novncproxy in
the Console tab's frame, connected through the proxy to the emulator's
RFB console of the VM), then delete everything from the dashboard.
Every step asserts what the page shows and what OpenStack and the
Nutanix backend hold, and saves a screenshot (``NUTANIX_E2E_ARTIFACTS``,
default ``.state/e2e-artifacts``, under ``horizon/``).

The page selectors follow Horizon's own Selenium tests
(``openstack_dashboard/test/selenium/integration``).
"""

import contextlib
import functools
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
import time

import pytest
from selenium.common import exceptions
from selenium import webdriver
from selenium.webdriver.chrome import service as chrome_service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support import ui

from nutanix_openstack.prism import nics as prism_nics
from quickstart import configs
from quickstart import stack as stack_mod

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
CHROMIUM_FLAGS = (
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync',
    '--window-size=1366,900',
)
WAIT = 120


def artifacts_dir():
    base = os.environ.get('NUTANIX_E2E_ARTIFACTS') or os.path.join(
        stack_mod.REPO, '.state', 'e2e-artifacts')
    path = os.path.join(base, 'horizon')
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


class Dashboard(object):
    """A browser on the quick start's Horizon, with its screenshots."""

    def __init__(self, stack, shots):
        self.stack = stack
        self.shots = shots
        self.count = 0
        self.base = stack.lay.url('horizon')
        self.profile = tempfile.mkdtemp(prefix='qs-chromium-')
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument('--user-data-dir=' + self.profile)
        self.driver = webdriver.Chrome(
            service=chrome_service.Service(CHROMEDRIVER), options=options)
        self.driver.implicitly_wait(10)

    def close(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    # -- plumbing ------------------------------------------------------------
    def shot(self, name):
        self.count += 1
        path = os.path.join(self.shots, '%02d-%s.png' % (self.count, name))
        self.driver.save_screenshot(path)
        return path

    def get(self, path):
        self.driver.get(self.base + path)
        self.wait_ready()

    def wait_ready(self):
        wait = ui.WebDriverWait(self.driver, WAIT)
        wait.until(lambda d: d.execute_script(
            'return document.readyState') == 'complete')
        wait.until(lambda d: d.execute_script(
            "return (typeof jQuery === 'undefined') || jQuery.active === 0"))

    def find(self, css, within=None):
        return (within or self.driver).find_element(By.CSS_SELECTOR, css)

    def messages(self):
        """The alerts the page shows (and dismisses them)."""
        found = ui.WebDriverWait(self.driver, WAIT).until(
            EC.presence_of_all_elements_located(
                (By.CSS_SELECTOR, 'div.messages div.alert')))
        texts = []
        for alert in found:
            texts.append(alert.find_element(By.CSS_SELECTOR, 'p, div').text)
            try:
                alert.find_element(By.CSS_SELECTOR, 'a.close').click()
            except exceptions.WebDriverException:
                pass
        return texts

    def row(self, table, name):
        return ui.WebDriverWait(self.driver, WAIT).until(
            EC.presence_of_element_located(
                (By.CSS_SELECTOR,
                 "table#%s tr[data-display='%s']" % (table, name))))

    def row_action(self, table, name, label):
        # widgets.select_from_dropdown of Horizon's tests.
        actions = self.find('td.actions_column', self.row(table, name))
        self.find('.dropdown-toggle', actions).click()
        menu = self.find('ul.dropdown-menu', actions)
        menu.find_element(
            By.XPATH, ".//*[normalize-space()='%s']" % label).click()

    def confirm(self, clicked=None):
        """Confirm in the topmost modal (not the button just clicked)."""
        def button(driver):
            found = [b for b in driver.find_elements(
                By.CSS_SELECTOR, '.modal-dialog .btn-danger')
                if b.is_displayed() and b != clicked]
            return found[-1] if found else False
        ui.WebDriverWait(self.driver, WAIT).until(button).click()

    def visible(self, xpath, within=None):
        return ui.WebDriverWait(within or self.driver, WAIT).until(
            EC.visibility_of_element_located((By.XPATH, xpath)))

    def allocate(self, table, label):
        """Move ``label``'s row to "Allocated" in a launch wizard step.

        widgets.select_from_transfer_table of Horizon's tests, with an
        explicit wait for the step's rows (loaded by AngularJS).
        """
        row = ".//*[normalize-space(text())='%s']/ancestor::tr/td//*" % label

        def button(_):
            for arrow, click in (('up', True), ('down', False)):
                found = table.find_elements(
                    By.XPATH, row + "[@class='btn btn-default fa "
                    "fa-arrow-%s']" % arrow)
                found = [b for b in found if b.is_displayed()]
                if found:
                    return found[0], click
            return False

        with self.implicit_wait(0):
            found, click = ui.WebDriverWait(self.driver, WAIT).until(button)
        if click:
            found.click()

    @contextlib.contextmanager
    def implicit_wait(self, seconds):
        self.driver.implicitly_wait(seconds)
        try:
            yield
        finally:
            self.driver.implicitly_wait(10)

    def row_text(self, table, name, *wanted):
        """The row's text once it shows every ``wanted`` string.

        Horizon refreshes a row of a resource in transition by AJAX.
        """
        css = "table#%s tr[data-display='%s']" % (table, name)

        def text(driver):
            try:
                value = driver.find_element(By.CSS_SELECTOR, css).text
            except exceptions.WebDriverException:
                return False
            return value if all(w in value for w in wanted) else False

        with self.implicit_wait(0):
            return ui.WebDriverWait(self.driver, WAIT).until(text)

    def themed_select(self, form, field_id, label):
        # widgets.select_from_specific_dropdown_in_form of Horizon's tests
        # (an option whose label starts with ``label``).
        dropdown = form.find_element(
            By.XPATH, ".//*[@for='%s']/following-sibling::div" % field_id)
        dropdown.click()
        self.find('ul.dropdown-menu', dropdown).find_element(
            By.XPATH, ".//*[starts-with(normalize-space(), '%s')]"
            % label).click()


def wait_for(what, fn, timeout=300, interval=1.0):
    deadline = time.time() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError('timed out waiting for %s' % what)
        time.sleep(interval)


def status_of(finder, name_or_id):
    obj = finder(name_or_id)
    return obj.status if obj is not None else None


@pytest.fixture(scope='module')
def image_files():
    tmp = tempfile.mkdtemp(prefix='qs-horizon-')
    path = os.path.join(tmp, 'cirros-like.qcow2')
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', path, '64M'],
                   check=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=tmp)
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield path, 'http://127.0.0.1:%d/%s' % (server.server_address[1],
                                            os.path.basename(path))
    server.shutdown()
    server.server_close()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.timeout(900)
def test_operators_day_in_the_dashboard(stack, image_files):
    assert stack.horizon, 'the e2e stack runs Horizon'
    admin = stack.connection()
    demo_project = admin.identity.find_project('demo')
    inventory_before = _inventory(stack)
    names = {k: 'hz-%s' % k
             for k in ('file', 'url', 'volume', 'snapshot', 'server')}
    file_path, url = image_files
    dash = Dashboard(stack, artifacts_dir())
    try:
        _walk(dash, stack, admin, demo_project, names, file_path, url,
              inventory_before)
    finally:
        dash.shot('last-page')
        dash.close()
        _clean_up(admin, demo_project, names)


def _walk(dash, stack, admin, project, names, file_path, url,
          inventory_before):
    images = functools.partial(admin.image.find_image, ignore_missing=True)
    volumes = functools.partial(admin.block_storage.find_volume,
                                ignore_missing=True, all_projects=True)

    # -- log in ----------------------------------------------------------
    dash.get('/auth/login/')
    dash.shot('login')
    dash.find('#id_username').send_keys('demo')
    dash.find('#id_password').send_keys(configs.DEMO_PASSWORD)
    dash.find('.btn-primary').click()
    ui.WebDriverWait(dash.driver, WAIT).until(
        lambda d: '/auth/login' not in d.current_url)
    dash.wait_ready()
    assert 'demo' in dash.find('.context-project').text
    dash.shot('overview')

    # -- an image from a file --------------------------------------------
    def create_image(name, source_url=None):
        dash.get('/project/images')
        dash.driver.find_element(
            By.XPATH, "//button[normalize-space()='Create Image']").click()
        wizard = dash.find('wizard')
        wizard.find_element(By.ID, 'imageForm-name').send_keys(name)
        if source_url:
            wizard.find_element(
                By.XPATH, ".//label[contains(@class,'btn-toggle')]"
                "[normalize-space()='URL']").click()
            wizard.find_element(By.ID, 'imageForm-image_url').send_keys(
                source_url)
        else:
            # With IMAGES_ALLOW_LOCATION the wizard opens on "URL".
            wizard.find_element(
                By.XPATH, ".//label[contains(@class,'btn-toggle')]"
                "[normalize-space()='File']").click()
            dash.find("input[name='image_file']", wizard).send_keys(file_path)
        ui.Select(wizard.find_element(By.ID, 'imageForm-format')) \
            .select_by_visible_text('QCOW2 - QEMU Emulator')
        dash.shot('image-%s-form' % ('url' if source_url else 'file'))
        dash.find('button.btn-primary.finish', wizard).click()
        messages = dash.messages()
        assert ('Success: Image %s was successfully created.' % name
                in messages), messages
        return wait_for('image %s active' % name,
                        lambda: status_of(images, name) == 'active' and
                        images(name))

    image = create_image(names['file'])
    # Its bytes are on the cluster: a nutanix:// location.
    assert image.direct_url.startswith('nutanix://'), image.direct_url
    url_image = create_image(names['url'], source_url=url)
    assert [loc['url'] for loc in url_image.locations] == [url]
    dash.get('/project/images')
    for name in (names['file'], names['url']):
        assert name in dash.find('table').text
    dash.shot('images')

    # -- a volume from the image -----------------------------------------
    dash.get('/project/volumes')
    dash.driver.find_element(By.LINK_TEXT, 'Create Volume').click()
    form = dash.find('.modal-dialog form')
    form.find_element(By.ID, 'id_name').send_keys(names['volume'])
    dash.themed_select(form, 'id_volume_source_type', 'Image')
    dash.themed_select(form, 'id_image_source', names['file'] + ' (')
    dash.shot('volume-form')
    dash.find(".btn-primary[value='Create Volume']", form).click()
    messages = dash.messages()
    assert 'Info: Creating volume "%s"' % names['volume'] in messages
    volume = wait_for('volume available',
                      lambda: status_of(volumes, names['volume']) ==
                      'available' and volumes(names['volume']))
    assert volume.size == 1
    dash.get('/project/volumes')
    assert 'Available' in dash.row('volumes', names['volume']).text

    # -- a snapshot of the volume ----------------------------------------
    dash.row_action('volumes', names['volume'], 'Create Snapshot')
    form = dash.find("form[action*='create_snapshot']")
    form.find_element(By.ID, 'id_name').send_keys(names['snapshot'])
    dash.find('.btn-primary', form).click()
    messages = dash.messages()
    assert ('Info: Creating volume snapshot "%s".' % names['snapshot']
            in messages), messages
    snapshot = wait_for('snapshot available', lambda: _snapshot(
        admin, names['snapshot'], 'available'))
    dash.get('/project/snapshots')
    assert 'Available' in dash.row('volume_snapshots',
                                   names['snapshot']).text
    dash.shot('snapshots')

    # -- an instance from the image, on the provider network ------------
    server, port = _launch(dash, stack, admin, names)

    # -- the volume attached to it ---------------------------------------
    dash.get('/project/volumes')
    dash.row_action('volumes', names['volume'], 'Manage Attachments')
    form = dash.find(".modal-content form[id='attach_volume_form']")
    dash.themed_select(form, 'id_instance',
                       '%s (%s)' % (names['server'], server.id))
    dash.shot('attach-form')
    dash.find(".btn-primary[value='Attach Volume']", form).click()
    messages = dash.messages()
    assert any(m.startswith('Info: Attaching volume %s to instance %s on '
                            % (names['volume'], names['server']))
               for m in messages), messages
    wait_for('volume in-use', lambda: status_of(
        volumes, names['volume']) == 'in-use')
    dash.get('/project/volumes')
    # "Attached To": "<device> on <server>".
    dash.row_text('volumes', names['volume'], 'In-use',
                  ' on %s' % names['server'])
    dash.shot('volume-attached')
    # On the backend, the volume's volume group is attached to the VM.
    vm = stack.backend_vm(server.id)
    (vg,) = stack.backend.volume_groups.find_by_name('volume-' + volume.id)
    assert vm['extId'] in [
        a['extId'] for a in
        stack.backend.volume_groups.list_vm_attachments(vg['extId'])]

    # -- its console ------------------------------------------------------
    dash.get('/project/instances/%s/?tab=instance_details__console'
             % server.id)
    frame = dash.find('iframe#console_embed')
    assert frame.get_attribute('src').startswith(
        stack.lay.novnc_url() + '?'), frame.get_attribute('src')
    dash.driver.switch_to.frame(frame)
    try:
        # noVNC's vnc_lite page: connected through nova-novncproxy to the
        # VM's console, whose desktop name is the VM's (the instance's).
        status = ui.WebDriverWait(dash.driver, WAIT).until(
            lambda d: d.find_element(By.ID, 'status').text.startswith(
                'Connected') and d.find_element(By.ID, 'status').text)
        assert status == 'Connected to %s' % server.id, status
        width = ui.WebDriverWait(dash.driver, WAIT).until(
            lambda d: d.execute_script(
                "var c = document.querySelector('#screen canvas');"
                "return c ? c.width : 0;"))
        assert width > 0
    finally:
        dash.driver.switch_to.default_content()
    dash.shot('console')

    # -- delete everything, from the dashboard ---------------------------
    dash.get('/project/volumes')
    dash.row_action('volumes', names['volume'], 'Manage Attachments')
    attachment = dash.row('attachments', 'Volume %s on instance %s'
                          % (names['volume'], names['server']))
    with dash.implicit_wait(0):
        toggles = attachment.find_elements(By.CSS_SELECTOR,
                                           '.dropdown-toggle')
    if toggles:
        toggles[0].click()
    detach = dash.visible(".//*[self::a or self::button]"
                          "[normalize-space()='Detach Volume']", attachment)
    detach.click()
    dash.confirm(clicked=detach)
    messages = dash.messages()
    assert ('Success: Detaching Volume: Volume %s on instance %s'
            % (names['volume'], names['server']) in messages), messages
    wait_for('volume detached', lambda: status_of(
        volumes, names['volume']) == 'available')
    assert stack.backend.volume_groups.list_vm_attachments(
        vg['extId']) == []
    dash.get('/project/instances')
    dash.row_action('instances', names['server'], 'Delete Instance')
    dash.confirm()
    messages = dash.messages()
    assert ('Info: Scheduled deletion of Instance: %s' % names['server']
            in messages), messages
    wait_for('server deleted', lambda: admin.compute.find_server(
        server.id, ignore_missing=True, all_projects=True) is None)
    wait_for('port deleted', lambda: admin.network.find_port(
        port.id, ignore_missing=True) is None)
    assert stack.backend_vm(server.id) is None
    dash.get('/project/snapshots')
    dash.row_action('volume_snapshots', names['snapshot'],
                    'Delete Volume Snapshot')
    dash.confirm()
    dash.messages()
    wait_for('snapshot deleted', lambda: admin.block_storage.find_snapshot(
        snapshot.id, ignore_missing=True, all_projects=True) is None)
    dash.get('/project/volumes')
    dash.row_action('volumes', names['volume'], 'Delete Volume')
    dash.confirm()
    messages = dash.messages()
    assert ('Info: Scheduled deletion of Volume: %s' % names['volume']
            in messages), messages
    wait_for('volume deleted', lambda: volumes(names['volume']) is None)
    for name in (names['file'], names['url']):
        dash.get('/project/images')
        dash.driver.find_element(
            By.XPATH, "//a[text()='%s']/ancestor::tr/td[contains(@class,"
            "'actions_column')]" % name)
        actions = dash.driver.find_element(
            By.XPATH, "//a[text()='%s']/ancestor::tr/td[contains(@class,"
            "'actions_column')]" % name)
        dash.find('.dropdown-toggle', actions).click()
        dash.find('ul.dropdown-menu', actions).find_element(
            By.XPATH, ".//*[normalize-space()='Delete Image']").click()
        dash.confirm()
        messages = dash.messages()
        assert 'Success: Deleted Image: %s.' % name in messages, messages
        wait_for('image deleted', lambda: images(name) is None)
    dash.get('/project/volumes')
    dash.shot('all-deleted')
    # The backend holds what it held before.
    wait_for('backend back to its first inventory',
             lambda: _inventory(stack) == inventory_before, 120)


def _launch(dash, stack, admin, names):
    """Horizon's launch instance wizard (AngularJS): image, flavor, net."""
    dash.get('/project/instances')
    dash.driver.find_element(By.LINK_TEXT, 'Launch Instance').click()
    wizard = dash.find('wizard')
    nav = dash.find('div.wizard-nav', wizard)
    dash.visible(".//*[@id='name']", wizard).send_keys(names['server'])
    nav.find_element(By.LINK_TEXT, 'Source').click()
    dash.allocate(dash.find('ng-include[ng-form=launchInstanceSourceForm]',
                            wizard), names['file'])
    dash.shot('launch-source')
    nav.find_element(By.LINK_TEXT, 'Flavor').click()
    dash.allocate(dash.find('ng-include[ng-form=launchInstanceFlavorForm]',
                            wizard), 'qs.small')
    nav.find_element(By.LINK_TEXT, 'Networks').click()
    dash.allocate(dash.find('ng-include[ng-form=launchInstanceNetworkForm]',
                            wizard), stack_mod.PROVIDER_NETWORK)
    dash.shot('launch-network')
    finish = dash.find('button.btn-primary.finish', wizard)
    ui.WebDriverWait(dash.driver, WAIT).until(lambda d: finish.is_enabled())
    finish.click()
    ui.WebDriverWait(dash.driver, WAIT).until(
        EC.invisibility_of_element_located((By.CSS_SELECTOR, 'wizard')))

    server = wait_for('server active', lambda: _server(
        admin, names['server'], 'ACTIVE'))
    (port,) = admin.network.ports(device_id=server.id)
    (ip,) = [f['ip_address'] for f in port.fixed_ips]
    dash.get('/project/instances')
    # The row refreshes itself until the server is Active, with its IP.
    dash.row_text('instances', names['server'], 'Active', ip)
    dash.shot('instances')
    # The port is a NIC of the server's VM, with the port's MAC and IP.
    vm = wait_for('NIC of MAC %s on the VM' % port.mac_address, lambda: (
        _vm_nic(stack, server.id, port.mac_address)), 60)
    vm, nic = vm
    assert prism_nics.nic_ipv4_address(nic) == ip
    return server, port


def _vm_nic(stack, instance_uuid, mac):
    vm = stack.backend_vm(instance_uuid)
    for nic in (vm or {}).get('nics') or []:
        if prism_nics.nic_mac(nic) == mac.lower():
            return vm, nic
    return None


def _server(conn, name, status):
    server = conn.compute.find_server(name, ignore_missing=True,
                                      all_projects=True)
    if server is not None and server.status == 'ERROR':
        raise AssertionError('server %s in error: %s' % (name, server.fault))
    return server if server is not None and server.status == status else None


def _inventory(stack):
    counts = stack.backend_counts()
    counts['nics'] = sum(len(vm.get('nics') or [])
                         for vm in stack.backend.vms.list())
    return counts


def _snapshot(conn, name, status):
    for snap in conn.block_storage.snapshots(all_projects=True, name=name):
        if snap.status == 'error':
            raise AssertionError('snapshot %s in error' % name)
        if snap.status == status:
            return snap
    return None


def _clean_up(conn, project, names):
    """Whatever a failed run left, so that later tests start clean."""
    for server in conn.compute.servers(all_projects=True,
                                       name='^%s$' % names['server']):
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=300)
    for snap in conn.block_storage.snapshots(all_projects=True,
                                             name=names['snapshot']):
        conn.block_storage.delete_snapshot(snap)
        conn.block_storage.wait_for_delete(snap, wait=300)
    for vol in conn.block_storage.volumes(all_projects=True,
                                          name=names['volume']):
        conn.block_storage.delete_volume(vol, force=True)
        conn.block_storage.wait_for_delete(vol, wait=300)
    for key in ('file', 'url'):
        image = conn.image.find_image(names[key], ignore_missing=True)
        if image is not None:
            conn.image.delete_image(image)
