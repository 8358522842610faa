from decimal import Decimal

from trytond.exceptions import UserError
from trytond.modules.account.tests import create_chart
from trytond.modules.company.tests import (
    CompanyTestMixin, create_company, set_company)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction

from ..account import gst_head

CHART = 'monitorbizz_account_in.account_template_root_in'


def create_india():
    pool = Pool()
    Country = pool.get('country.country')
    india, other = Country.create([{
                'name': "India",
                'code': 'IN',
                'subdivisions': [('create', [{
                                'name': "Maharashtra",
                                'code': 'IN-MH',
                                'type': 'state',
                                }, {
                                'name': "Karnataka",
                                'code': 'IN-KA',
                                'type': 'state',
                                }])],
                }, {
                'name': "Nepal",
                'code': 'NP',
                'subdivisions': [('create', [{
                                'name': "Bagmati",
                                'code': 'NP-P3',
                                'type': 'province',
                                }])],
                }])
    states = {s.code: s for s in india.subdivisions}
    return india, states['IN-MH'], states['IN-KA'], other.subdivisions[0]


def locate_company(company, country, subdivision):
    address, = company.party.addresses
    address.country = country
    address.subdivision = subdivision
    address.save()


class AccountInTestCase(CompanyTestMixin, ModuleTestCase):
    "Test Monitorbizz Indian accounting module"
    module = 'monitorbizz_account_in'
    extras = ['purchase', 'sale']

    @with_transaction()
    def test_account_chart(self):
        "Test creation and update of the Indian chart"
        pool = Pool()
        Account = pool.get('account.account')
        Configuration = pool.get('account.configuration')
        Tax = pool.get('account.tax')
        TaxCode = pool.get('account.tax.code')
        UpdateChart = pool.get('account.update_chart', type='wizard')

        company = create_company()
        with set_company(company):
            create_chart(company, chart=CHART)
            root, = Account.search([('parent', '=', None)])
            self.assertEqual(
                root.name, "Indian Chart of Accounts (Monitorbizz)")

            # 5 rates x (CGST+SGST with 2 children, IGST) x sale/purchase
            self.assertEqual(Tax.search([], count=True), 40)
            self.assertEqual(TaxCode.search([], count=True), 8)
            cgst, = Tax.search([('name', '=', "CGST 9%")])
            self.assertEqual(cgst.rate, Decimal('0.09'))
            self.assertEqual(cgst.invoice_account.name, "Output CGST")
            self.assertEqual(cgst.parent.name, "GST 18% (CGST+SGST)")

            config = Configuration(1)
            self.assertEqual(
                config.default_account_receivable.name, "Trade Receivables")
            self.assertEqual(
                config.default_account_payable.name, "Trade Payables")
            self.assertEqual(
                config.default_category_account_revenue.name, "Sales")
            self.assertEqual(
                config.default_category_account_expense.name, "Purchases")
            for name in [
                    "Stock of Raw Materials", "Stock of Finished Goods",
                    "Cost of Materials Consumed"]:
                account, = Account.search([('name', '=', name)])
                self.assertTrue(account.type.stock)

            session_id, _, _ = UpdateChart.create()
            update_chart = UpdateChart(session_id)
            update_chart.start.account = root
            update_chart.transition_update()
            self.assertEqual(Tax.search([], count=True), 40)

    @with_transaction()
    def test_create_gst_tax_rules(self):
        "Test GST tax rules choose CGST+SGST or IGST"
        pool = Pool()
        Configuration = pool.get('account.configuration')
        Tax = pool.get('account.tax')
        TaxRule = pool.get('account.tax.rule')

        india, maharashtra, karnataka, _ = create_india()
        company = create_company()
        locate_company(company, india, maharashtra)
        with set_company(company):
            create_chart(company, chart=CHART)
            customer_rule, supplier_rule = TaxRule.create_gst_tax_rules(
                company)

            config = Configuration(1)
            self.assertEqual(config.default_customer_tax_rule, customer_rule)
            self.assertEqual(config.default_supplier_tax_rule, supplier_rule)
            self.assertEqual(customer_rule.kind, 'sale')
            self.assertEqual(supplier_rule.kind, 'purchase')

            gst, = Tax.search([('name', '=', "GST 18% (CGST+SGST)")])
            igst, = Tax.search([('name', '=', "IGST 18%")])
            in_gst, = Tax.search([('name', '=', "Input GST 18% (CGST+SGST)")])
            in_igst, = Tax.search([('name', '=', "Input IGST 18%")])

            def pattern(side, subdivision):
                return {
                    f'{side}_country': india.id,
                    f'{side}_subdivision': subdivision.id,
                    }

            for tax in [gst, igst]:
                self.assertEqual(
                    customer_rule.apply(tax, pattern('to', maharashtra)),
                    [gst.id])
                self.assertEqual(
                    customer_rule.apply(tax, pattern('to', karnataka)),
                    [igst.id])
            for tax in [in_gst, in_igst]:
                self.assertEqual(
                    supplier_rule.apply(tax, pattern('from', maharashtra)),
                    [in_gst.id])
                self.assertEqual(
                    supplier_rule.apply(tax, pattern('from', karnataka)),
                    [in_igst.id])
            # Unknown place of supply keeps the tax
            self.assertEqual(customer_rule.apply(gst, {}), [gst.id])

            with self.assertRaisesRegex(UserError, "already has default"):
                TaxRule.create_gst_tax_rules(company, maharashtra)

    @with_transaction()
    def test_create_gst_tax_rules_invalid(self):
        "Test GST tax rules refuse invalid states and charts"
        pool = Pool()
        TaxRule = pool.get('account.tax.rule')

        india, maharashtra, _, bagmati = create_india()
        company = create_company()
        with set_company(company):
            with self.assertRaisesRegex(UserError, "has no GST tax"):
                TaxRule.create_gst_tax_rules(company, maharashtra)

            create_chart(company, chart=CHART)
            with self.assertRaisesRegex(UserError, "address has none"):
                TaxRule.create_gst_tax_rules(company)
            with self.assertRaisesRegex(UserError, "need an Indian state"):
                TaxRule.create_gst_tax_rules(company, bagmati)

            TaxRule.create_gst_tax_rules(company.id, maharashtra.id)

    @with_transaction()
    def test_hsn_sac(self):
        "Test HSN/SAC codes of products are checked and normalised"
        pool = Pool()
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        unit, = Uom.search([('symbol', '=', 'u')])

        def template(code):
            return Template(name="Flange", default_uom=unit, hsn_sac=code)

        for code in ['7214', '721491', '73079190', '998873', None]:
            product = template(code)
            product.save()
            self.assertEqual(product.hsn_sac, code)
        product = template(' 7307 91 90 ')
        product.save()
        self.assertEqual(product.hsn_sac, '73079190')
        for code, message in [
                ('721', "must have 4, 6 or 8 digits"),
                ('7214911', "must have 4, 6 or 8 digits"),
                ('99887', "must have 6 digits"),
                ('99887311', "must have 6 digits"),
                ('72A4', "digits only"),
                ('７２１４', "digits only"),
                ]:
            with self.subTest(code=code), \
                    self.assertRaisesRegex(UserError, message):
                template(code).save()
        with self.assertRaisesRegex(UserError, "must have 4, 6 or 8"):
            Template.write([product], {'hsn_sac': '73079'})

    @with_transaction()
    def test_gst_head(self):
        "Test the GST head of a tax comes from its template"
        pool = Pool()
        Tax = pool.get('account.tax')

        company = create_company()
        with set_company(company):
            create_chart(company, chart=CHART)
            heads = {t.name: gst_head(t) for t in Tax.search([])}
            # A renamed tax keeps its head
            cgst, = Tax.search([('name', '=', "CGST 9%")])
            cgst.name = "Central tax 9 percent"
            cgst.save()
            self.assertEqual(gst_head(cgst), 'cgst')
        self.assertEqual(heads["CGST 9%"], 'cgst')
        self.assertEqual(heads["SGST 2.5%"], 'sgst')
        self.assertEqual(heads["IGST 28%"], 'igst')
        self.assertEqual(heads["Input IGST 5%"], 'igst')
        self.assertIsNone(heads["GST 18% (CGST+SGST)"])
        # 5 rates x (CGST, SGST, IGST) x sale/purchase
        self.assertEqual(sum(1 for h in heads.values() if h), 30)


del ModuleTestCase
