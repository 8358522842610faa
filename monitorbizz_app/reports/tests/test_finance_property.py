# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Properties of the finance reports on generated invoices and payments:

- the sales summary's invoiced value is the sum of the untaxed amounts of
  the posted (and paid) customer invoices, and its GST their tax, in all
  and customer by customer;
- the customer payments' open total at a date is the balance of the
  receivable account at that date, and each customer's balance the sum of
  its ageing buckets."""
import datetime as dt
import itertools
import unittest
from decimal import Decimal

from hypothesis import given, settings, strategies as st

from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction

COUNTER = itertools.count()

invoices_strategy = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # customer
        st.integers(min_value=1, max_value=30),  # quantity
        st.decimals(min_value=Decimal('0.01'), max_value=Decimal('4999.99'),
            places=2),  # unit price
        st.integers(min_value=0, max_value=3),  # days after the last one
        st.booleans(),  # 30 days to pay (else due on its date)
        st.booleans(),  # posted (else left a draft)
        st.sampled_from([None, 'part', 'full']),  # paid
        st.integers(min_value=0, max_value=60),  # days to pay
        ),
    min_size=1, max_size=4)
advances_strategy = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # customer
        st.decimals(min_value=Decimal('1.00'), max_value=Decimal('9999.99'),
            places=2),
        st.integers(min_value=0, max_value=10 ** 6),  # date
        ),
    max_size=2)


class FinanceReportsPropertyTestCase(unittest.TestCase):
    "Sales summary and customer payments against the invoices and ledger"

    @classmethod
    def setUpClass(cls):
        drop_db()
        activate_module('monitorbizz_reports')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    @with_transaction()
    def test_invoiced_and_receivable(self):
        pool = Pool()
        Company = pool.get('company.company')
        User = pool.get('res.user')
        Party = pool.get('party.party')
        Country = pool.get('country.country')
        Account = pool.get('account.account')
        Tax = pool.get('account.tax')
        PaymentTerm = pool.get('account.invoice.payment_term')
        Invoice = pool.get('account.invoice')
        Journal = pool.get('account.journal')
        InvoiceLine = pool.get('account.invoice.line')
        Payment = pool.get('monitorbizz.finance.payment')
        FiscalYear = pool.get('account.fiscalyear')
        Summary = pool.get('monitorbizz.report.sales_summary')
        Payments = pool.get('monitorbizz.report.customer_payments')
        Date = pool.get('ir.date')
        # Tryton locks the journal periods' table when an entry is first
        # made in a period: locked from the start (with_transaction starts
        # the transaction again with it), not in the middle of an example
        pool.get('account.journal.period').lock()

        company_id = Company.provision({
                'name': 'Property Receivables', 'state': 'IN-MH'})
        # The reports are read by a user working in the business
        User.write([User(Transaction().user)], {
                'companies': [('add', [company_id])]})
        context = dict(company=company_id, _skip_warnings=True)
        with Transaction().set_context(**context):
            company = Company(company_id)
            today = Date.today()
            fiscal_year = FiscalYear.find(company_id, date=today)
            start = fiscal_year.start_date
            span = (today - start).days + 1
            india, = Country.search([('code', '=', 'IN')])
            maharashtra, = [s for s in india.subdivisions
                if s.code == 'IN-MH']
            revenue, = Account.search([
                    ('company', '=', company_id),
                    ('type.revenue', '=', True),
                    ], limit=1)
            receivable, = Account.search([
                    ('company', '=', company_id),
                    ('type.receivable', '=', True),
                    ])
            gst18, = Tax.search([
                    ('company', '=', company_id),
                    ('name', '=', 'GST 18% (CGST+SGST)'),
                    ('parent', '=', None), ('group.kind', '=', 'sale'),
                    ])
            net30, = PaymentTerm.search([('name', '=', 'Net 30')])
            immediate, = PaymentTerm.search([('name', '=', 'Immediate')])
            # (no on_change gives an invoice made here its journal)
            journal, = Journal.search([('type', '=', 'revenue')], limit=1)

        def in_year(n):
            "A date of the financial year up to today"
            return start + dt.timedelta(days=n % span)

        def invoice(party, quantity, price, date, term):
            return Invoice(company=company, type='out', party=party,
                invoice_address=party.addresses[0],
                currency=company.currency, account=receivable,
                journal=journal, invoice_date=date,
                payment_term=net30 if term else immediate,
                lines=[InvoiceLine(type='line', account=revenue,
                        description='Machining', quantity=quantity,
                        unit_price=price, taxes=[gst18])])

        def customers(n):
            return Party.create([{
                        'name': f'Customer {n}-{i}',
                        'addresses': [('create', [{
                                        'country': india.id,
                                        'subdivision': maharashtra.id,
                                        }])],
                        } for i in range(3)])

        # Posted before the examples: any other table Tryton locks when an
        # entry or a payment is first made is locked here, before them
        with Transaction().set_context(**context):
            warm, = customers('warm-up')[:1]
            first = invoice(warm, 1, Decimal('100'), start, False)
            first.save()
            Invoice.post([first])
            Payment.post(Payment.create([{
                            'company': company_id, 'kind': 'receipt',
                            'party': warm.id, 'invoice': first.id,
                            'amount': Decimal('50'), 'payment_method': 'cash',
                            'payment_date': start,
                            }, {
                            'company': company_id, 'kind': 'receipt',
                            'party': warm.id, 'advance': True,
                            'amount': Decimal('10'), 'payment_method': 'upi',
                            'payment_date': start,
                            }]))
        # Invoices are numbered in date order: each example's come after
        # the last one posted
        last = {'date': start}

        @settings(max_examples=8, deadline=None, database=None)
        @given(invoices_strategy, advances_strategy,
            st.integers(min_value=0, max_value=10 ** 6))
        def check(invoices, advances, at):
            at = in_year(at)
            n = next(COUNTER)
            with Transaction().set_context(**context):
                parties = customers(n)
                records = []
                for (customer, quantity, price, gap, term, posted, paid,
                        days) in invoices:
                    last['date'] = min(today,
                        last['date'] + dt.timedelta(days=gap))
                    records.append(invoice(parties[customer], quantity,
                            price, last['date'], term))
                Invoice.save(records)
                to_post = [i for i, v in zip(records, invoices) if v[5]]
                Invoice.post(to_post)
                payments = []
                for record, values in zip(records, invoices):
                    posted, paid, days = values[5:]
                    if not posted or not paid:
                        continue
                    record = Invoice(record.id)
                    amount = record.total_amount
                    if paid == 'part':
                        amount = (amount / 3).quantize(Decimal('0.01'))
                    payments.append(Payment(company=company, kind='receipt',
                            party=record.party, invoice=record,
                            amount=amount, payment_method='cash',
                            payment_date=min(today, record.invoice_date
                                + dt.timedelta(days=days))))
                for customer, amount, date in advances:
                    payments.append(Payment(company=company, kind='receipt',
                            party=parties[customer], advance=True,
                            amount=amount, payment_method='upi',
                            payment_date=in_year(date)))
                Payment.save(payments)
                for payment in payments:
                    Payment.post([payment])

                posted = Invoice.search([
                        ('party', 'in', [c.id for c in parties]),
                        ('state', 'in', ['posted', 'paid']),
                        ])
                ids = [c.id for c in parties]

            # Sales summary: invoiced = the posted invoices' untaxed amounts
            with Transaction().set_context(from_date=start, to_date=today,
                    group_by='customer', customer=ids, **context):
                rows = Summary.search([])
                got = {r.customer.id: (r.invoiced_value, r.gst_collected)
                    for r in rows if r.invoices}
            expected = {}
            for record in posted:
                untaxed, tax = expected.get(
                    record.party.id, (Decimal(0), Decimal(0)))
                expected[record.party.id] = (
                    untaxed + record.untaxed_amount, tax + record.tax_amount)
            self.assertEqual(got, expected)
            with Transaction().set_context(from_date=start, to_date=today,
                    group_by='month', customer=ids, **context):
                self.assertEqual(
                    sum(r.invoiced_value for r in Summary.search([])),
                    sum(i.untaxed_amount for i in posted))

            # Customer payments: the open total at the date (all the
            # business's customers, those of the earlier examples too) =
            # the receivable account's balance then
            with Transaction().set_context(to_date=at, group_by='customer',
                    **context):
                rows = Payments.search([])
                for row in rows:
                    self.assertEqual(row.balance, sum([row.not_due,
                                row.overdue_0_30, row.overdue_31_60,
                                row.overdue_61_90, row.overdue_over_90]))
                    self.assertEqual(row.overdue,
                        row.balance - row.not_due)
                total = sum((r.balance for r in rows), Decimal(0))
            with Transaction().set_context(date=at, **context):
                self.assertEqual(total, Account(receivable.id).balance)
        check()
