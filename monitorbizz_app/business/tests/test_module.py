from trytond.tests.test_tryton import ModuleTestCase


class BusinessTestCase(ModuleTestCase):
    "Test the Monitorbizz business module"
    module = 'monitorbizz_business'


del ModuleTestCase
