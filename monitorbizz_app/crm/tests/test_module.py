from trytond.tests.test_tryton import ModuleTestCase


class CrmTestCase(ModuleTestCase):
    "Test the Monitorbizz crm module"
    module = 'monitorbizz_crm'


del ModuleTestCase
