# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.tests.test_tryton import ModuleTestCase


class FinanceTestCase(ModuleTestCase):
    "Test the Monitorbizz finance module"
    module = 'monitorbizz_finance'


del ModuleTestCase
