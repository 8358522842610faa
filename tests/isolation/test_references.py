"""Creating records of X that point at records of Y: a sale for Y's
customer, a move of Y's material, a line in Y's sale, a BOM of Y's
material... Each is tried with a reference to Y (must be refused) and, as a
control, with the same values pointing at X's own records (must work, so
that the refusal is about the reference and not about the values).
"""
import datetime as dt
import json

import uuid

import pytest

from .conftest import rest_outcome
from .known import REFERENCE_BUGS, marks
from .seed import jdate

TODAY = dt.date.today()


def _move(own, other):
    return {'product': other['material'], 'from_location': own['storage'],
        'to_location': own['customer_location'], 'quantity': 1,
        'unit': own['kg'], 'unit_price': 80, 'currency': own['currency'],
        'company': own['company']}


def _production(own, other):
    return {'product': other['product'], 'quantity': 1, 'unit': own['unit'],
        'warehouse': own['warehouse'], 'location': own['production_location'],
        'work_center': own['work_center'], 'planned_date': jdate(TODAY),
        'planned_start_date': jdate(TODAY)}


def _line(sale, product, own):
    return {'sale': sale, 'product': product, 'quantity': 1,
        'unit': own['unit'], 'unit_price': 450}


# name: (model, values(own, other)); other is the attacked business's ids
# for the foreign attempt, X's own for the control.
CASES = {
    # The warehouse is given: its default is not the business's (see the
    # report of the suite)
    'sale.sale.party': ('sale.sale', lambda own, other: {
            'party': other['customer'], 'warehouse': own['warehouse']}),
    'purchase.purchase.party': ('purchase.purchase', lambda own, other: {
            'party': other['vendor'], 'warehouse': own['warehouse']}),
    'account.invoice.party': ('account.invoice', lambda own, other: {
            'type': 'out', 'party': other['customer'],
            'invoice_address': other['customer_address'],
            'account': own['receivable_account']}),
    'stock.move.product': ('stock.move', _move),
    'stock.move.from_location': ('stock.move', lambda own, other: {
            **_move(own, own), 'from_location': other['storage']}),
    'production.product': ('production', _production),
    'production.work_center': ('production', lambda own, other: {
            **_production(own, own), 'work_center': other['work_center']}),
    'party.address.party': ('party.address', lambda own, other: {
            'party': other['customer'], 'city': 'Nowhere'}),
    'party.contact_mechanism.party': ('party.contact_mechanism',
        lambda own, other: {'party': other['customer'], 'type': 'email',
            'value': 'spy@example.in'}),
    'party.party.company': ('party.party', lambda own, other: {
            'name': 'Planted customer', 'company': other['company']}),
    'product.product.template': ('product.product', lambda own, other: {
            'template': other['material_template'],
            # a variant has a code of its own in its business
            'suffix_code': f'-V{uuid.uuid4().hex[:6]}'}),
    'stock.lot.product': ('stock.lot', lambda own, other: {
            'number': 'PLANTED-1', 'product': other['material']}),
    'sale.line.sale': ('sale.line', lambda own, other: _line(
            other['sale'], own['product'], own)),
    'sale.line.product': ('sale.line', lambda own, other: _line(
            own['sale'], other['product'], own)),
    'purchase.product_supplier.party': ('purchase.product_supplier',
        lambda own, other: {'template': own['material_template'],
            'party': other['vendor'], 'company': own['company']}),
    'production.bom.inputs.product': ('production.bom', lambda own, other: {
            'name': 'Planted BOM', 'inputs': [('create', [{
                            'product': other['material'], 'quantity': 1,
                            'unit': own['kg']}])]}),
    'production.routing.boms': ('production.routing', lambda own, other: {
            'name': 'Planted routing', 'boms': [('add', [other['bom']])]}),
    'stock.inventory.lines.product': ('stock.inventory',
        lambda own, other: {'location': own['storage'],
            'lines': [('create', [{'product': other['material'],
                            'quantity': 1}])]}),
    'account.move.lines.account': ('account.move', lambda own, other: {
            'journal': own['journal'], 'period': own['period'],
            'date': jdate(TODAY), 'company': own['company'],
            'lines': [('create', [
                        {'account': other['revenue_account'], 'debit': 0,
                            'credit': 10},
                        {'account': own['expense_account'], 'debit': 10,
                            'credit': 0}])]}),
    'timesheet.line.work': ('timesheet.line', lambda own, other: {
            'work': other['timesheet_work'], 'employee': own['employee'],
            'duration': {'__class__': 'timedelta', 'seconds': 600},
            'date': jdate(TODAY)}),
    'quality.inspection.origin': ('quality.inspection', lambda own, other: {
            'control': own['quality_control'], 'company': own['company'],
            'origin': f"production,{other['production']}"}),
    'ir.note.resource': ('ir.note', lambda own, other: {
            'resource': f"sale.sale,{other['sale']}",
            'message': 'planted note'}),
    'ir.attachment.resource': ('ir.attachment', lambda own, other: {
            'resource': f"sale.sale,{other['sale']}",
            'name': 'planted.pdf', 'type': 'link',
            'link': 'https://example.in/planted.pdf'}),
    }
def _cases():
    for name in CASES:
        for protocol in ['jsonrpc', 'rest']:
            yield pytest.param(name, protocol,
                marks=marks(REFERENCE_BUGS.get(name)),
                id=f'{name}-{protocol}')


def _create(world, model, values, protocol):
    if protocol == 'jsonrpc':
        return world.a.rpc(model, 'create', [values])
    return rest_outcome(world.a.rest('POST', f'model/{model}', body=values))


@pytest.mark.parametrize('name,protocol', list(_cases()))
def test_create_with_foreign_reference(world, name, protocol):
    model, values = CASES[name]
    own, other = world.ids[world.x], world.ids[world.y]
    table = model.replace('.', '_')
    before = set(world.truth.query(f'SELECT id FROM "{table}"'))
    attack = _create(world, model, values(own, other), protocol)
    after = set(world.truth.query(f'SELECT id FROM "{table}"'))
    control = _create(world, model, values(own, own), protocol)
    assert control.ok, (f"the control (same values, X's records) fails, so "
        f"the case proves nothing: {control}")
    assert not attack.ok, (f"{name} via {protocol}: A creates a {model} of "
        f"business {world.x} pointing at business {world.y}: {attack}")
    assert after == before
    # The refusal tells nothing of Y
    assert world.label[world.y] not in json.dumps(
        attack.error, ensure_ascii=False), attack
