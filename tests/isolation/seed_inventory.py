"""Inventory records of a business (monitorbizz_inventory): its purchase
rules (approval threshold, receipt tolerance), a vendor with its supply
price, a material with a reorder level (order point), a batch with an
expiry, a stock count with its reason (ledger rows), an approved purchase
order received into a batch, each marked with the label."""
import datetime as dt

from .seed import jdate


def seed(owner, ids, label, session):
    o = owner
    today = dt.date.today()
    # Purchase rules of the business (purchase.configuration.approval)
    o.call('purchase.configuration', 'write', [1], {
            'approval_threshold': 1000000, 'receipt_tolerance': 5})
    ids['inventory_vendor'] = o.create('party.party', {
            'name': f'{label} Vardhman Steel',
            'addresses': [('create', [{'city': f'{label} Kalamboli'}])]},
        context={'party_kind': 'vendor'})
    ids['inventory_vendor_address'], = o.read('party.party',
        ids['inventory_vendor'], ['addresses'])['addresses']
    ids['inventory_material_template'] = o.create('product.template', {
            'name': f'{label} EN8 bar', 'type': 'goods',
            'purchasable': True, 'default_uom': ids['kg'],
            'purchase_uom': ids['kg'], 'list_price': 0,
            'account_category': ids['account_category'],
            'lot_required': ['supplier'],
            'products': [('create', [{'cost_price': 80,
                            'description': f'{label} bright bar'}])]})
    ids['inventory_material'], = o.read('product.template',
        ids['inventory_material_template'], ['products'])['products']
    o.call('product.product', 'write', [ids['inventory_material']], {
            'reorder_level': 100, 'reorder_quantity': 400,
            'preferred_vendor': ids['inventory_vendor']})
    ids['inventory_supplier_price'] = o.create(
        'purchase.product_supplier.price', {
            'product_supplier': o.search('purchase.product_supplier', [
                    ('party', '=', ids['inventory_vendor'])])[0],
            'quantity': 0, 'unit_price': 80})
    ids['inventory_lot'] = o.create('stock.lot', {
            'number': f'{label}-H-100', 'product': ids['inventory_material'],
            'expiration_date': jdate(today + dt.timedelta(days=90))})
    ids['inventory_count'] = o.create('stock.inventory', {
            'location': ids['storage'],
            'reason': f'{label} opening count',
            'lines': [('create', [{'product': ids['inventory_material'],
                            'lot': ids['inventory_lot'],
                            'quantity': 60}])]})
    o.call('stock.inventory', 'confirm', [ids['inventory_count']])
    ids['inventory_purchase'] = o.create('purchase.purchase', {
            'party': ids['inventory_vendor'],
            'invoice_address': ids['inventory_vendor_address'],
            'description': f'{label} bar order',
            'lines': [('create', [{
                            'product': ids['inventory_material'],
                            'quantity': 40, 'unit': ids['kg'],
                            'unit_price': 80,
                            'description': f'{label} bar'}])]})
    # Orders above 1 000 need the owner's approval in this business
    o.call('purchase.configuration', 'write', [1],
        {'approval_threshold': 1000})
    o.call('purchase.purchase', 'quote', [ids['inventory_purchase']])
    o.call('purchase.purchase', 'approve', [ids['inventory_purchase']])
    line, = o.read('purchase.purchase', ids['inventory_purchase'],
        ['lines'])['lines']
    ids['inventory_receipt'] = o.call('purchase.purchase', 'receive',
        [ids['inventory_purchase']], [{'line': line, 'quantity': 20,
                'lot': f'{label}-H-201'}], None)
