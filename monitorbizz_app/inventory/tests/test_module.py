import datetime as dt
from decimal import Decimal

from trytond.modules.company.tests import create_company, set_company
from trytond.modules.stock.inventory import Inventory as StockInventory
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction

from ..stock import COUNT_WINDOW, merge_writes


class _Record:
    def __init__(self, id):
        self.id = id


class InventoryTestCase(ModuleTestCase):
    "Test the Monitorbizz inventory module"
    module = 'monitorbizz_inventory'

    def test_merge_writes(self):
        "Pairs written with the same values are merged, others kept"
        a, b, c = _Record(1), _Record(2), _Record(3)
        state = {'state': 'done'}
        self.assertEqual(
            merge_writes(([a], dict(state), [b], {'state': 'draft'},
                    [c], dict(state))),
            [[a, c], state, [b], {'state': 'draft'}])
        # Same value, other representation: written as given
        self.assertEqual(
            len(merge_writes(([a], {'cost_price': Decimal('1.0')},
                        [b], {'cost_price': Decimal('1.00')}))), 4)
        # A record written twice: the order of its writes is kept
        args = ([a], dict(state), [b], {'state': 'draft'}, [a], dict(state))
        self.assertEqual(merge_writes(args), args)

    @with_transaction()
    def test_count_confirmed_as_tryton(self):
        "A count confirmed by windows moves as Tryton's confirm"
        pool = Pool()
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        Location = pool.get('stock.location')
        Inventory = pool.get('stock.inventory')
        Move = pool.get('stock.move')

        company = create_company()
        with set_company(company):
            kg, = Uom.search([('symbol', '=', 'kg')])
            storage, = Location.search([('code', '=', 'STO')])
            lost_found, = Location.search([('type', '=', 'lost_found')])
            date = dt.date.today() - dt.timedelta(days=1)

            def items(count):
                templates = Template.create([{
                            'name': f"Item {i}", 'type': 'goods',
                            'default_uom': kg.id, 'list_price': 0,
                            'products': [('create', [{
                                            'cost_price': Decimal('12.5'),
                                            }])],
                            } for i in range(count)])
                products = [t.products[0] for t in templates]
                # Some stock to count more or less than
                moves = Move.create([{
                            'product': p.id, 'unit': kg.id, 'quantity': 5,
                            'from_location': lost_found.id,
                            'to_location': storage.id,
                            'effective_date': date - dt.timedelta(days=1),
                            } for p in products])
                Move.do(moves)
                return products

            def count(products):
                inventory, = Inventory.create([{
                            'location': storage.id, 'date': date,
                            'lines': [('create', [{
                                            'product': p.id,
                                            'quantity': (i % 3) * 4,
                                            } for i, p in enumerate(
                                                products)])],
                            }])
                return inventory

            def result(inventory):
                moves = Move.search([
                        ('origin.inventory', '=', inventory.id,
                            'stock.inventory.line'),
                        ], order=[('id', 'ASC')])
                return Inventory(inventory.id).state, [(
                        m.origin.quantity, m.quantity, m.from_location.type,
                        m.to_location.type, m.state, m.effective_date,
                        m.cost_price, m.company, m.unit)
                    for m in moves]

            # More lines than a window: several windows and a part
            size = COUNT_WINDOW + 7
            tryton = count(items(size))
            bulk = count(items(size))
            # Tryton's own confirm, decorators included
            StockInventory.confirm.__func__(Inventory, [tryton])
            Inventory.confirm([bulk])

            state, moves = result(bulk)
            self.assertEqual(result(tryton), (state, moves))
            self.assertEqual(state, 'done')
            # 0 and 8 counted of 5: the lines counting 4 move too
            self.assertEqual(len(moves), size)
            self.assertEqual(
                {(m[0], m[1], m[2], m[3]) for m in moves}, {
                    (0, 5, 'storage', 'lost_found'),
                    (4, 1, 'storage', 'lost_found'),
                    (8, 3, 'lost_found', 'storage')})
            self.assertEqual({m[4:] for m in moves}, {
                    ('done', date, Decimal('12.5'), company, kg)})


del ModuleTestCase
