# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Payment reminders: a daily task runs Tryton's dunning for every business
(new dunnings for invoices past a level of their business's procedure,
higher levels for older ones), processes them and e-mails each customer the
reminder of account_dunning_email with the tax invoice of each overdue
invoice attached."""
from trytond.pool import Pool, PoolMeta


class Dunning(metaclass=PoolMeta):
    __name__ = 'account.dunning'

    @classmethod
    def send_reminders(cls, date=None):
        """Generate and process the dunnings due at date (today) and e-mail
        those whose level sends e-mails; returns the ids of the dunnings
        processed"""
        pool = Pool()
        Email = pool.get('ir.email')
        cls.generate_dunnings(date=date)
        dunnings = cls.search([
                ('state', '=', 'draft'),
                ('blocked', '=', False),
                ], order=[('company', 'ASC'), ('id', 'ASC')])
        if not dunnings:
            return []
        cls.process(dunnings)
        emails = []
        for dunning in cls.browse(dunnings):
            if dunning.level.send_email:
                # Sent when the transaction commits
                email = dunning.send_email()
                if email:
                    emails.append(email)
        Email.save(emails)
        return [d.id for d in dunnings]

    def _email(self, sender, to, cc, bcc, languages):
        msg = super()._email(sender, to, cc, bcc, languages)
        invoice = self.invoice
        if invoice and invoice.type == 'out' and invoice.number:
            pool = Pool()
            Report = pool.get('account.invoice.tax_invoice', type='report')
            ext, content, _, title = Report.execute([invoice.id], {
                    'model': invoice.__name__, 'id': invoice.id,
                    'ids': [invoice.id]})
            msg.add_attachment(bytes(content), maintype='application',
                subtype=ext, filename=f'{title}.{ext}')
        return msg

    @property
    def invoice(self):
        "The invoice whose receivable line is dunned"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        origin = self.line.move.origin if self.line else None
        return origin if isinstance(origin, Invoice) else None


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('account.dunning|send_reminders',
                "Send the Payment Reminders of Every Business"))
