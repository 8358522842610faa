"""Realistic records of one business, created through JSON-RPC by its owner
(the calls the desk makes), so that every kind of business record exists in
both businesses of the isolation suite."""
import datetime as dt
import importlib
import pkgutil


def jdate(date):
    "A date as Tryton's JSON encodes it"
    return {'__class__': 'date', 'year': date.year, 'month': date.month,
        'day': date.day}


class Owner:
    "JSON-RPC calls of a business owner, in the business's context"

    def __init__(self, server, session):
        self.server = server
        self.session = session

    def call(self, model, method, *args, context=None):
        return self.server.rpc(f'model.{model}.{method}',
            [*args, {**self.session.context, **(context or {})}],
            self.session.session)

    def search(self, model, domain, limit=None):
        return self.call(model, 'search', domain, 0, limit, None)

    def create(self, model, values, context=None):
        return self.call(model, 'create', [values], context=context)[0]

    def read(self, model, id_, names):
        return self.call(model, 'read', [id_], names)[0]


def seed_business(server, session, company, state_code, gstin, label):
    """Create the records of a workshop in company as its owner; label
    marks every name (the suite looks for it in what others receive).
    Returns {name: id or [ids]}."""
    o = Owner(server, session)
    ids = {'company': company}
    today = dt.date.today()
    unit, = o.search('product.uom', [('symbol', '=', 'u')])
    kg, = o.search('product.uom', [('symbol', '=', 'kg')])
    country, = o.search('country.country', [('code', '=', 'IN')])
    state, = o.search('country.subdivision', [('code', '=', state_code)])
    business = o.read('company.company', company,
        ['warehouse', 'currency', 'party'])
    currency = business['currency']
    ids['company_party'] = business['party']
    ids['warehouse'] = business['warehouse']
    warehouse = o.read('stock.location', ids['warehouse'],
        ['storage_location', 'production_location', 'input_location',
            'output_location'])
    ids['storage'] = warehouse['storage_location']
    ids['input'] = warehouse['input_location']
    ids['output'] = warehouse['output_location']
    ids['production_location'] = warehouse['production_location']
    customer_location, = o.search('stock.location',
        [('type', '=', 'customer')], limit=1)
    supplier_location, = o.search('stock.location',
        [('type', '=', 'supplier')], limit=1)
    ids.update(unit=unit, kg=kg, currency=currency,
        customer_location=customer_location)

    def account(kind):
        return o.search('account.account', [
                (f'type.{kind}', '=', True), ('company', '=', company),
                ('closed', '!=', True)], limit=1)[0]
    ids['revenue_account'] = account('revenue')
    ids['sale_tax'], = o.search('account.tax', [('company', '=', company),
            ('name', '=', 'GST 18% (CGST+SGST)')])
    ids['purchase_tax'], = o.search('account.tax', [
            ('company', '=', company),
            ('name', '=', 'Input GST 18% (CGST+SGST)')])
    ids['expense_account'] = account('expense')
    ids['receivable_account'] = account('receivable')

    # CRM: a customer with address, contacts and GSTIN; a vendor
    ids['customer'] = o.create('party.party', {
            'name': f'{label} Bharat Pumps',
            'addresses': [('create', [{
                            'street': '12 Industrial Estate', 'city': 'City',
                            'postal_code': '411001', 'country': country,
                            'subdivision': state}])],
            'contact_mechanisms': [('create', [
                        {'type': 'email',
                            'value': f'buyer@{label.lower()}.example.in'},
                        {'type': 'phone', 'value': '+91 20 1234 5678'}])],
            'identifiers': [('create', [
                        {'type': 'in_vat', 'code': gstin}])],
            })
    party = o.read('party.party', ids['customer'],
        ['addresses', 'contact_mechanisms', 'identifiers'])
    ids['customer_address'] = party['addresses'][0]
    ids['customer_contact'] = party['contact_mechanisms'][0]
    ids['customer_identifier'] = party['identifiers'][0]
    ids['vendor'] = o.create('party.party', {
            'name': f'{label} Steel Traders',
            'addresses': [('create', [{'city': 'City', 'country': country,
                            'subdivision': state}])],
            })
    ids['vendor_address'] = o.read('party.party', ids['vendor'],
        ['addresses'])['addresses'][0]

    # Inventory: an accounting category, a material and a product
    ids['account_category'] = o.create('product.category', {
            'name': f'{label} Steel', 'accounting': True,
            'account_revenue': ids['revenue_account'],
            'account_expense': ids['expense_account'],
            'customer_taxes': [('add', [ids['sale_tax']])],
            'supplier_taxes': [('add', [ids['purchase_tax']])]})
    ids['material_template'] = o.create('product.template', {
            'name': f'{label} MS Round Bar 40mm', 'type': 'goods',
            'purchasable': True, 'salable': True, 'default_uom': kg,
            'purchase_uom': kg, 'sale_uom': kg, 'list_price': 120,
            'account_category': ids['account_category'],
            'products': [('create', [{'cost_price': 80}])]})
    ids['material'], = o.read('product.template', ids['material_template'],
        ['products'])['products']
    ids['product_template'] = o.create('product.template', {
            'name': f'{label} Pump Flange', 'type': 'goods',
            'salable': True, 'producible': True, 'default_uom': unit,
            'sale_uom': unit, 'list_price': 450,
            'account_category': ids['account_category'],
            'products': [('create', [{'cost_price': 200}])]})
    ids['product'], = o.read('product.template', ids['product_template'],
        ['products'])['products']
    ids['lot'] = o.create('stock.lot', {
            'number': f'{label}-HEAT-001', 'product': ids['material']})
    ids['inventory'] = o.create('stock.inventory', {
            'location': ids['storage'],
            'lines': [('create', [{'product': ids['material'],
                            'quantity': 500}])]})
    o.call('stock.inventory', 'confirm', [ids['inventory']])
    ids['move'] = o.create('stock.move', {
            'product': ids['material'], 'from_location': ids['storage'],
            'to_location': customer_location, 'quantity': 2, 'unit': kg,
            'unit_price': 80, 'currency': currency, 'company': company})
    ids['shipment_in'] = o.create('stock.shipment.in', {
            'supplier': ids['vendor'], 'warehouse': ids['warehouse'],
            'warehouse_input': ids['input'], 'warehouse_storage': ids['storage'],
            'company': company,
            'incoming_moves': [('create', [{
                            'product': ids['material'], 'quantity': 50,
                            'unit': kg, 'from_location': supplier_location,
                            'to_location': ids['input'], 'unit_price': 78,
                            'currency': currency, 'company': company}])]})
    ids['shipment_internal'] = o.create('stock.shipment.internal', {
            'from_location': ids['storage'], 'to_location': ids['output'],
            'company': company,
            'moves': [('create', [{
                            'product': ids['material'], 'quantity': 5,
                            'unit': kg, 'from_location': ids['storage'],
                            'to_location': ids['output'],
                            'company': company}])]})
    ids['order_point'] = o.create('stock.order_point', {
            'product': ids['material'], 'type': 'purchase',
            'location': ids['warehouse'], 'min_quantity': 50,
            'target_quantity': 200, 'company': company})
    ids['stock_period'] = o.create('stock.period', {
            'date': jdate(today - dt.timedelta(days=400)),
            'company': company})

    # Manufacturing: machine, BOM, routing, work order, quality
    ids['work_center'] = o.create('production.work.center', {
            'name': f'{label} CNC Lathe', 'company': company,
            'warehouse': ids['warehouse'], 'cost_price': 600,
            'cost_method': 'hour'})
    ids['bom'] = o.create('production.bom', {
            'name': f'{label} Flange BOM',
            'inputs': [('create', [{'product': ids['material'],
                            'quantity': 1.5, 'unit': kg}])],
            'outputs': [('create', [{'product': ids['product'],
                            'quantity': 1, 'unit': unit}])]})
    ids['operation'] = o.create('production.routing.operation', {
            'name': f'{label} Turning'})
    ids['routing'] = o.create('production.routing', {
            'name': f'{label} Flange routing',
            'boms': [('add', [ids['bom']])],
            'steps': [('create', [{'operation': ids['operation']}])]})
    o.call('product.product', 'write', [ids['product']], {
            'boms': [('create', [{'bom': ids['bom'],
                            'routing': ids['routing']}])]})
    ids['product_bom'], = o.read('product.product', ids['product'],
        ['boms'])['boms']
    ids['production'] = o.create('production', {
            'product': ids['product'], 'bom': ids['bom'],
            'routing': ids['routing'], 'work_center': ids['work_center'],
            'quantity': 5, 'unit': unit, 'warehouse': ids['warehouse'],
            'location': ids['production_location'],
            'planned_date': jdate(today),
            'planned_start_date': jdate(today)})
    o.call('production', 'wait', [ids['production']])
    ids['quality_control'] = o.create('quality.control', {
            'name': f'{label} Flange OD check', 'company': company,
            'frequency': 1, 'operations': ['production:do'],
            'points': [('create', [{'name': 'od', 'string': 'OD (mm)',
                            'type_': 'float'}])]})
    ids['quality_inspection'] = o.create('quality.inspection', {
            'control': ids['quality_control'], 'company': company,
            'origin': f"production,{ids['production']}"})
    ids['quality_alert'] = o.create('quality.alert', {
            'origin': f"quality.inspection,{ids['quality_inspection']}",
            'company': company, 'title': f'{label} burr on flange face'})

    # Sales and purchases: a lead, draft documents, a confirmed sale
    # (shipment, moves, invoice, reporting rows)
    ids['opportunity'] = o.create('sale.opportunity', {
            'party': ids['customer'], 'amount': 90000,
            'description': f'{label} enquiry for 200 flanges',
            'lines': [('create', [{'product': ids['product'],
                            'quantity': 200, 'unit': unit}])]})
    ids['sale'] = o.create('sale.sale', {
            'party': ids['customer'],
            'invoice_address': ids['customer_address'],
            'shipment_address': ids['customer_address'],
            'description': f'{label} flange order',
            'lines': [('create', [{'product': ids['product'],
                            'quantity': 10, 'unit': unit, 'unit_price': 450,
                            'taxes': [('add', [ids['sale_tax']])],
                            'description': f'{label} flange'}])]})
    ids['sale_line'], = o.read('sale.sale', ids['sale'], ['lines'])['lines']
    ids['sale_confirmed'] = o.create('sale.sale', {
            'party': ids['customer'],
            'invoice_address': ids['customer_address'],
            'shipment_address': ids['customer_address'],
            'lines': [('create', [{'product': ids['material'],
                            'quantity': 3, 'unit': kg, 'unit_price': 120}])]})
    o.call('sale.sale', 'quote', [ids['sale_confirmed']])
    o.call('sale.sale', 'confirm', [ids['sale_confirmed']])
    ids['purchase'] = o.create('purchase.purchase', {
            'party': ids['vendor'], 'invoice_address': ids['vendor_address'],
            'description': f'{label} bar order',
            'lines': [('create', [{'product': ids['material'],
                            'quantity': 100, 'unit': kg, 'unit_price': 80,
                            'taxes': [('add', [ids['purchase_tax']])],
                            'description': f'{label} bar'}])]})
    ids['purchase_line'], = o.read('purchase.purchase', ids['purchase'],
        ['lines'])['lines']
    ids['product_supplier'] = o.create('purchase.product_supplier', {
            'template': ids['material_template'], 'party': ids['vendor'],
            'company': company})

    # Finance: a draft invoice, a journal entry, a UPI payment
    ids['invoice'] = o.create('account.invoice', {
            'type': 'out', 'party': ids['customer'],
            'invoice_address': ids['customer_address'],
            'account': ids['receivable_account'],
            'description': f'{label} invoice',
            'lines': [('create', [{'product': ids['product'], 'quantity': 1,
                            'unit': unit, 'unit_price': 450,
                            'account': ids['revenue_account'],
                            'taxes': [('add', [ids['sale_tax']])],
                            'description': f'{label} flange'}])]})
    journal, = o.search('account.journal', [('type', '=', 'general')],
        limit=1)
    period, = o.search('account.period', [
            ('company', '=', company), ('type', '=', 'standard'),
            ('start_date', '<=', jdate(today)),
            ('end_date', '>=', jdate(today))])
    ids['journal'], ids['period'] = journal, period
    ids['account_move'] = o.create('account.move', {
            'journal': journal, 'period': period, 'date': jdate(today),
            'company': company, 'description': f'{label} accrual',
            'lines': [('create', [
                        {'account': ids['revenue_account'], 'credit': 1000,
                            'debit': 0},
                        {'account': ids['expense_account'], 'debit': 1000,
                            'credit': 0}])]})
    ids['payment_journal'] = o.create('account.payment.journal', {
            'name': f'{label} UPI', 'currency': currency,
            'process_method': 'manual', 'company': company})
    ids['payment'] = o.create('account.payment', {
            'journal': ids['payment_journal'], 'kind': 'receivable',
            'party': ids['customer'], 'amount': 5310, 'company': company,
            'date': jdate(today)})

    # Time on the shop floor
    ids['timesheet_work'] = o.create('timesheet.work', {
            'name': f'{label} shop hours', 'company': company})
    employee = session.context.get('employee')
    if employee:
        ids['employee'] = employee
        ids['timesheet_line'] = o.create('timesheet.line', {
                'work': ids['timesheet_work'], 'employee': employee,
                'duration': {'__class__': 'timedelta', 'seconds': 3600},
                'date': jdate(today)})

    # Notes and attachments on a sale, an invitation of a storekeeper
    ids['note'] = o.create('ir.note', {
            'resource': f"sale.sale,{ids['sale']}",
            'message': f'{label}: customer wants a 1 mm chamfer'})
    ids['attachment'] = o.create('ir.attachment', {
            'resource': f"sale.sale,{ids['sale']}",
            'name': f'{label} drawing.pdf', 'type': 'link',
            'link': 'https://example.in/drawing.pdf'})
    ids['invitation'] = o.call('monitorbizz.business.invitation', 'invite',
        company, f'stores@{label.lower()}.example.in', 'stores')

    # Each bounded context seeds its own records in seed_<context>.py:
    # a function seed(owner, ids, label, session) adding to ids.
    for extension in _extensions():
        extension.seed(o, ids, label, session)
    return ids


def _extensions():
    package = __name__.rpartition('.')[0]
    path = __file__.rpartition('/')[0]
    return [importlib.import_module(f'{package}.{info.name}')
        for info in sorted(pkgutil.iter_modules([path]),
            key=lambda i: i.name)
        if info.name.startswith('seed_')]
