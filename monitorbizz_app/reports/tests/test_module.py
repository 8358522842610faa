from trytond.tests.test_tryton import ModuleTestCase


class ReportsTestCase(ModuleTestCase):
    "Test the Monitorbizz reports module"
    module = 'monitorbizz_reports'


del ModuleTestCase
