"""The API answers as its OpenAPI document says: schemathesis, from the
document, over every /api operation of the live trytond, as the owner of a
freshly registered business.

make test runs a short bounded run; make fuzz (scripts/fuzz.py) a longer
one through the same test, with MONITORBIZZ_FUZZ_EXAMPLES (test cases per
operation), MONITORBIZZ_FUZZ_SECONDS (time budget of the whole run) and
MONITORBIZZ_FUZZ_SEED (none: a random seed, printed).
"""
import os
import re
import shutil
import subprocess
import sys

from .test_inventory_api import MH, Shop

EXAMPLES = int(os.environ.get('MONITORBIZZ_FUZZ_EXAMPLES', '4'))
SECONDS = int(os.environ.get('MONITORBIZZ_FUZZ_SECONDS', '100'))
SEED = os.environ.get('MONITORBIZZ_FUZZ_SEED', '20261203')
CHECKS = ['not_a_server_error', 'response_schema_conformance']
# Logging out would revoke the token every other operation runs with
EXCLUDED_PATHS = ['/api/auth/logout']


def schemathesis():
    executable = os.path.join(os.path.dirname(sys.executable), 'st')
    return executable if os.path.exists(executable) else shutil.which('st')


def write_config(path, ids):
    """A schemathesis configuration drawing half of the integers it
    generates from ids: the records of the business, so that operations on
    a record reach it rather than answer 404"""
    values = ', '.join(map(str, sorted(set(ids))))
    with open(path, 'w') as file:
        file.write(f"""[dictionaries.ids]
values = [{values}]

[generation.dictionaries]
integer = {{ dictionary = "ids", probability = 0.5 }}
""")


def seed(shop):
    "Records of each kind in the business; return their ids"
    bar = shop.post('/api/inventory/materials', {'name': "EN8 Round Bar",
            'unit': 'kg', 'cost_price': 80})
    flange = shop.post('/api/inventory/products', {'name': "Flange DN50",
            'unit': 'u', 'selling_price': 450, 'cost_price': 200})
    customer = shop.post('/api/crm/customers', {'name': "Deccan Pumps"})
    vendor = shop.post('/api/inventory/vendors', {'name': "Vardhman",
            'supplies': [{'item_id': bar['id'], 'unit_price': 80}]})
    machine = shop.post('/api/manufacturing/machines', {'name': "VMC 850"})
    lead = shop.post('/api/crm/leads', {'company_name': "Kolhapur Castings"})
    line = {'item_type': 'product', 'item_id': flange['id'],
        'quantity': 4, 'unit_price': 450, 'tax_rate': 18}
    quotation = shop.post('/api/crm/quotations', {
            'customer_id': customer['id'], 'lines': [line]})
    order = shop.post('/api/sales/orders', {
            'customer_id': customer['id'], 'lines': [line]})
    po = shop.post('/api/inventory/purchase-orders', {
            'vendor_id': vendor['id'],
            'lines': [{'item_id': bar['id'], 'quantity': 10}]})
    return [shop.id, bar['id'], flange['id'], customer['id'], vendor['id'],
        machine['id'], lead['id'], quotation['id'], order['id'], po['id']]


def run_schemathesis(url, token, report, config):
    command = [schemathesis(), '--config-file', config,
        'run', f'{url}api/openapi.json',
        '--checks', ','.join(CHECKS),
        '--max-examples', str(EXAMPLES),
        '--max-time', str(SECONDS),
        '--workers', '1',
        '--header', f'Authorization: Bearer {token}',
        '--request-timeout', '60',
        '--suppress-health-check', 'all',
        '--report', 'junit', '--report-junit-path', report,
        ]
    for path in EXCLUDED_PATHS:
        command += ['--exclude-path', path]
    if SEED:
        command += ['--seed', SEED]
    return subprocess.run(command, capture_output=True, text=True,
        env={**os.environ, 'NO_COLOR': '1', 'COLUMNS': '120'},
        timeout=SECONDS + 600)


def figures(output, report):
    "Operations, test cases and failures of the run (from its report)"
    with open(report) as file:
        junit = file.read()
    testsuite = re.search(r'<testsuite [^>]*>', junit).group(0)

    def attribute(name):
        match = re.search(fr'\b{name}="([^"]*)"', testsuite)
        return match.group(1) if match else '?'
    cases = re.search(r'(\d+) generated', output)
    return {
        'operations': attribute('tests'),
        'failures': attribute('failures'),
        'errors': attribute('errors'),
        'test_cases': cases.group(1) if cases else '?',
        'seconds': attribute('time'),
        }


def test_api_conforms_to_its_document(api, mail, live_server, tmp_path):
    "No server error, every answer matches its declared schema"
    shop = Shop(api, mail, MH, server=live_server)
    config = str(tmp_path / 'schemathesis.toml')
    write_config(config, seed(shop))
    report = str(tmp_path / 'junit.xml')
    result = run_schemathesis(live_server.url, shop.token, report, config)
    output = result.stdout + result.stderr
    print(output[-6000:])
    print("fuzz figures:", figures(output, report))
    assert result.returncode == 0, output[-20000:]
