"""The desk in a real browser: headless Debian chromium driven by Playwright
logs in to the web client as the demo owner and opens the work order and
machine lists. Screenshots go to var/test-artifacts/."""
import os
import shutil

import pytest

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
# Chromium's own background traffic is refused on closed networks.
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
    '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync']


@pytest.fixture(scope='module')
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium is missing: run `make browser`")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={'width': 1366, 'height': 800})
    page = context.new_page()
    # The desk's first load compiles the server's views: slow on 2 shared
    # cores when other test runs compete
    page.set_default_timeout(60_000)
    yield page
    context.close()


def enter_login(page, live_server, login):
    page.goto(f'{live_server.url}#{live_server.database}')
    # A login typed before the database list arrives is lost.
    page.wait_for_function(
        "db => [...document.querySelectorAll('#database')].some("
        "e => e.offsetParent && e.value == db)", arg=live_server.database)
    page.fill('#login', login)
    page.press('#login', 'Enter')


def log_in(page, live_server, login, password):
    enter_login(page, live_server, login)
    page.fill('.modal input[type=password]', password)
    page.press('.modal input[type=password]', 'Enter')
    # The menu appears once the session is open.
    page.wait_for_selector('#menu .treeview, #menu table', state='visible')


def open_list(page, live_server, model):
    page.evaluate(
        f"window.location.hash = '{live_server.database}/model/{model}'")
    page.wait_for_selector('#tabcontent .tab-pane.active .treeview table',
        state='visible')
    return page.locator('#tabcontent .tab-pane.active')


def test_owner_sees_work_orders_and_machines(page, live_server, demo,
        artifacts):
    owner = demo['users'][0]
    log_in(page, live_server, owner['login'], owner['password'])
    assert page.title().endswith('Monitorbizz')
    assert page.locator('#title').inner_text() == 'Monitorbizz'
    page.screenshot(path=os.path.join(artifacts, 'desk-menu.png'))

    work_orders = open_list(page, live_server, 'production')
    headers = work_orders.locator('.treeview table thead th').all_inner_texts()
    assert any('Product' in h for h in headers), headers
    page.screenshot(path=os.path.join(artifacts, 'desk-work-orders.png'))

    machines = open_list(page, live_server, 'production.work.center')
    for machine in demo['machines']:
        machines.get_by_text(machine['name']).first.wait_for()
    page.screenshot(path=os.path.join(artifacts, 'desk-machines.png'))


def test_wrong_password_keeps_the_login_dialog(page, live_server, demo):
    enter_login(page, live_server, demo['users'][0]['login'])
    page.fill('.modal input[type=password]', 'wrong-password')
    page.press('.modal input[type=password]', 'Enter')
    # sao asks again for the password; no menu is shown.
    page.wait_for_selector('.modal input[type=password]', state='visible')
    assert not page.locator('#menu .treeview').is_visible()


def _owner_of_two_businesses(live_server):
    """Register a person who owns X and Y, each with one customer; return
    (login, password, {business name: customer name})"""
    import uuid

    import requests
    api = live_server.url.rstrip('/') + '/api'
    tag = uuid.uuid4().hex[:8]
    login, password = f'switch-{tag}@example.in', f'Switch-{tag}-2026'
    response = requests.post(f'{api}/auth/register', json={
            'email': login, 'password': password, 'name': 'Anita Switcher'},
        timeout=60)
    assert response.status_code == 201, response.text
    token = response.json()['token']
    customers = {}
    for name, state in [(f'Xylo Tools {tag}', 'IN-MH'),
            (f'Yarn Moulds {tag}', 'IN-KA')]:
        response = requests.post(f'{api}/businesses', json={
                'name': name, 'state': state},
            headers={'Authorization': f'Bearer {token}'}, timeout=60)
        assert response.status_code == 201, response.text
        business = response.json()['id']
        session = live_server.login(login, password)
        session.call('res.user', 'switch_business', business)
        session = live_server.login(login, password)
        assert session.context['company'] == business
        customer = f'Customer of {name}'
        session.server.rpc('model.party.party.create', [[{'name': customer}],
                {**session.context, 'party_kind': 'customer'}],
            session.session)
        customers[name] = customer
    return login, password, customers


def test_switch_business_in_the_desk(page, live_server, artifacts):
    """The desk's company switcher (Preferences → Current Company) moves
    the owner of two businesses from one to the other: the customer list
    shows the records of the current business only"""
    login, password, customers = _owner_of_two_businesses(live_server)
    (x, x_customer), (y, y_customer) = customers.items()
    log_in(page, live_server, login, password)
    # The owner last worked in Y
    status = page.locator('#user-preferences > a')
    assert y in status.get_attribute('title')

    def customer_names(expected):
        parties = open_list(page, live_server, 'party.party')
        parties.get_by_text(expected).wait_for()
        return set(parties.locator('.treeview table tbody td')
            .all_inner_texts())

    assert x_customer not in customer_names(y_customer)

    status.click()
    page.get_by_text('Preferences...').click()
    # The preferences close the open tabs, after asking
    page.get_by_text('requires to close all tabs').wait_for()
    page.locator('.modal').get_by_role('button', name='OK').click()
    company = page.locator('.modal select[name=company]')
    try:
        company.wait_for(state='visible')
    except Exception:
        page.screenshot(
            path=os.path.join(artifacts, 'desk-switch-business-failed.png'))
        raise
    assert set(company.locator('option').all_inner_texts()) >= {x, y}
    company.select_option(label=x)
    page.wait_for_load_state('networkidle')
    page.screenshot(path=os.path.join(artifacts, 'desk-switch-business.png'))
    warning = page.locator('.warning-dialog:visible')
    assert not warning.count(), warning.first.inner_text()
    page.locator('.modal').get_by_role('button', name='OK').click()
    page.wait_for_function(
        "name => (document.querySelector('#user-preferences > a') || {})"
        ".title && document.querySelector('#user-preferences > a')"
        ".title.includes(name)", arg=x)
    page.wait_for_selector('#menu .treeview, #menu table', state='visible')

    names = customer_names(x_customer)
    assert y_customer not in names, names
