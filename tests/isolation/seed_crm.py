"""CRM records of a business (monitorbizz_crm): a tagged customer, a lead
with its contact, a quotation sent by e-mail and an order taken directly,
each marked with the label."""


def seed(owner, ids, label, session):
    o = owner
    slug = label.lower()
    country, = o.search('country.country', [('code', '=', 'IN')])
    ids['crm_tag'] = o.create('party.category', {'name': f'{label} key'})
    ids['crm_customer'] = o.create('party.party', {
            'name': f'{label} Kaveri Castings',
            'company_name': f'{label} Kaveri Castings Pvt Ltd',
            'customer_type': 'wholesale',
            'crm_notes': f'{label}: pays in 30 days',
            'categories': [('add', [ids['crm_tag']])],
            'addresses': [('create', [{
                            'street': f'{label} Plot 4', 'city': 'City',
                            'country': country}])],
            'contact_mechanisms': [('create', [{'type': 'email',
                            'value': f'buyer@{slug}-kaveri.example.in'}])],
            }, context={'party_kind': 'customer'})
    ids['crm_lead'] = o.create('sale.opportunity', {
            'company_name': f'{label} Deccan Valves',
            'contact_person': f'{label} Anil', 'lead_source': 'referral',
            'email': f'anil@{slug}-deccan.example.in', 'amount': 45000,
            'conversion_probability': 0.3,
            'comment': f'{label}: wants a sample first'})
    o.call('sale.opportunity', 'mark_contacted', [ids['crm_lead']])
    address, = o.read('party.party', ids['crm_customer'],
        ['addresses'])['addresses']
    ids['crm_quotation'] = o.create('sale.sale', {
            'party': ids['crm_customer'], 'invoice_address': address,
            'shipment_address': address,
            'terms_conditions': f'{label}: 50% advance',
            'lines': [('create', [{'product': ids['product'],
                            'quantity': 4, 'unit': ids['unit'],
                            'unit_price': 450, 'base_price': 500,
                            'taxes': [('add', [ids['sale_tax']])],
                            'description': f'{label} flange'}])]})
    o.call('sale.sale', 'send_quotation', [ids['crm_quotation']])
    ids['crm_order'] = o.create('sale.sale', {
            'party': ids['crm_customer'], 'invoice_address': address,
            'shipment_address': address, 'priority': 'urgent',
            'comment': f'{label} rush order',
            'lines': [('create', [{'product': ids['product'],
                            'quantity': 2, 'unit': ids['unit'],
                            'unit_price': 450,
                            'taxes': [('add', [ids['sale_tax']])],
                            'description': f'{label} flange'},
                        {'type': 'line', 'shipping': True, 'quantity': 1,
                            'unit': ids['unit'], 'unit_price': 300,
                            'description': f'{label} shipping'}])]},
        context={'sale_order': True})
    o.call('sale.sale', 'quote', [ids['crm_order']])
    o.call('sale.sale', 'confirm', [ids['crm_order']])
