from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction


class BusinessTestCase(ModuleTestCase):
    "Test the Monitorbizz business module"
    module = 'monitorbizz_business'

    @with_transaction()
    def test_payment_numbers_move_to_a_strict_sequence(self):
        "A business numbering payments with a plain sequence keeps its next "
        "number on the strict sequence that replaces it"
        pool = Pool()
        Company = pool.get('company.company')
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        company = Company(Company.provision({
                    'name': 'Old Works', 'state': 'IN-MH'}))
        self.assertEqual(
            company.payment_sequence.__name__, 'ir.sequence.strict')

        # As the module left it before: a plain sequence at number 7
        plain = Sequence(name="PAY numbers", company=company,
            prefix='PAY-${year}-', padding=3, number_next=7,
            sequence_type=ModelData.get_id(
                'monitorbizz_business', 'sequence_type_payment'))
        plain.save()
        table = Company.__table_handler__('monitorbizz_business')
        table.drop_fk('payment_sequence')
        cursor = Transaction().connection.cursor()
        company_table = Company.__table__()
        cursor.execute(*company_table.update(
                [company_table.payment_sequence], [plain.id],
                where=company_table.id == company.id))

        Company._migrate_payment_sequence('monitorbizz_business')
        Company.__register__('monitorbizz_business')

        Transaction().cache.clear()  # written in SQL, as an update does
        company = Company(company.id)
        sequence = company.payment_sequence
        self.assertEqual(sequence.__name__, 'ir.sequence.strict')
        self.assertEqual(sequence.company, company)
        self.assertEqual(Sequence.search([('id', '=', plain.id)]), [])
        with Transaction().set_context(company=company.id):
            self.assertEqual(sequence.get()[-4:], '-007')


del ModuleTestCase
