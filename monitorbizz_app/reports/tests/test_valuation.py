# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Property: the inventory valuation at a date is, item by item and in
total, the quantity received minus issued up to that date times the item's
cost price, computed here independently from the generated moves."""
import datetime as dt
import itertools
import unittest
from decimal import Decimal

from hypothesis import example, given, settings, strategies as st

from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction

COUNTER = itertools.count()

moves_strategy = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # item
        st.integers(min_value=1, max_value=500),  # quantity
        st.booleans(),  # received (else issued)
        st.integers(min_value=1, max_value=40),  # days ago
        ),
    min_size=1, max_size=12)
costs_strategy = st.lists(
    st.decimals(min_value=Decimal('0.01'), max_value=Decimal('9999.99'),
        places=2),
    min_size=3, max_size=3)


def _within_stock(moves):
    """The moves in date order with each issue cut to what its item holds
    then (stock may not go below zero), issues of nothing left out"""
    held = {}
    kept = []
    for item, quantity, received, ago in sorted(
            moves, key=lambda m: (-m[3], not m[2])):
        if not received:
            quantity = min(quantity, held.get(item, 0))
            if not quantity:
                continue
        held[item] = held.get(item, 0) + (quantity if received else -quantity)
        kept.append((item, quantity, received, ago))
    return kept


class ValuationPropertyTestCase(unittest.TestCase):
    "Inventory valuation against quantity × cost computed independently"

    @classmethod
    def setUpClass(cls):
        drop_db()
        activate_module('monitorbizz_reports')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    @with_transaction()
    def test_valuation_is_quantity_times_cost(self):
        pool = Pool()
        Company = pool.get('company.company')
        Location = pool.get('stock.location')
        Template = pool.get('product.template')
        Product = pool.get('product.product')
        Move = pool.get('stock.move')
        Uom = pool.get('product.uom')
        Valuation = pool.get('monitorbizz.report.inventory_valuation')
        Date = pool.get('ir.date')

        User = pool.get('res.user')
        company_id = Company.provision({
                'name': 'Property Works', 'state': 'IN-MH'})
        # The report is read by a user working in the business: Tryton's
        # stock quantities are those of the user's current business
        User.write([User(Transaction().user)], {
                'companies': [('add', [company_id])]})
        company = Company(company_id)
        storage = company.warehouse.storage_location
        supplier, = Location.search([('type', '=', 'supplier')], limit=1)
        customer, = Location.search([('type', '=', 'customer')], limit=1)
        unit, = Uom.search([('symbol', '=', 'u')])

        @settings(max_examples=20, deadline=None, database=None)
        @given(moves_strategy, costs_strategy,
            st.integers(min_value=0, max_value=45))
        # found by Hypothesis: one unit received yesterday, valued today
        @example(moves=[(0, 1, True, 1)], costs=[Decimal('0.01')] * 3,
            days_ago=0)
        def check(moves, costs, days_ago):
            moves = _within_stock(moves)
            # moves without an origin are what the test makes on purpose
            with Transaction().set_context(
                    company=company_id, _skip_warnings=True):
                today = Date.today()
                n = next(COUNTER)
                products = []
                for i, cost in enumerate(costs):
                    template, = Template.create([{
                                'name': f'Item {n}-{i}',
                                'type': 'goods',
                                'default_uom': unit.id,
                                'list_price': Decimal(0),
                                'products': [('create', [{}])],
                                }])
                    product, = template.products
                    product.cost_price = cost
                    product.save()
                    products.append(product)
                records = []
                for item, quantity, received, ago in moves:
                    date = today - dt.timedelta(days=ago)
                    records.append(Move(product=products[item],
                            unit=unit, quantity=quantity,
                            from_location=supplier if received else storage,
                            to_location=storage if received else customer,
                            effective_date=date, planned_date=date,
                            company=company,
                            unit_price=costs[item],
                            currency=company.currency))
                Move.save(records)
                Move.do(records)

                at = today - dt.timedelta(days=days_ago)
                expected = {}
                for item, quantity, received, ago in moves:
                    if today - dt.timedelta(days=ago) <= at:
                        expected.setdefault(products[item].id, 0)
                        expected[products[item].id] += (
                            quantity if received else -quantity)
                expected = {p: (Decimal(q) * costs[
                            [x.id for x in products].index(p)]
                        ).quantize(Decimal('0.01'))
                    for p, q in expected.items() if q}

                with Transaction().set_context(
                        to_date=at, group_by='product'):
                    rows = Valuation.search([
                            ('product', 'in', [p.id for p in products]),
                            ])
                    got = {r.product.id: r.value for r in rows}
                self.assertEqual(got, expected)
                with Transaction().set_context(
                        to_date=at, group_by='location'):
                    rows = Valuation.search([])
                    total = sum(r.value for r in rows)
                with Transaction().set_context(
                        to_date=at, group_by='product'):
                    self.assertEqual(total,
                        sum(r.value for r in Valuation.search([])))
        check()

