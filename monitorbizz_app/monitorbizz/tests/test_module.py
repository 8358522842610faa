from trytond.tests.test_tryton import ModuleTestCase


class MonitorbizzTestCase(ModuleTestCase):
    "Test the Monitorbizz meta module"
    module = 'monitorbizz'


del ModuleTestCase
