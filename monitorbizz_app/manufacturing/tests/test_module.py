from trytond.tests.test_tryton import ModuleTestCase


class ManufacturingTestCase(ModuleTestCase):
    "Test the Monitorbizz manufacturing module"
    module = 'monitorbizz_manufacturing'


del ModuleTestCase
