from trytond.tests.test_tryton import ModuleTestCase


class InventoryTestCase(ModuleTestCase):
    "Test the Monitorbizz inventory module"
    module = 'monitorbizz_inventory'


del ModuleTestCase
