# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The locks of gap-free numbering, asked for before the work."""
from trytond.pool import Pool

__all__ = ['lock_numbering']


def lock_numbering(entries, sequences=()):
    """Ask at once for the locks that numbering journal entries takes:
    the strict sequences of the fiscal years of entries ((company, journal,
    date): invoice, credit note, bill and entry numbers) and of sequences,
    and, for a journal's first entry in a period, the journal periods.
    Tryton asks for each when it numbers, restarting the transaction after
    all the work done so far (three times for every invoice posted); asked
    first, the restart comes before any work."""
    pool = Pool()
    Period = pool.get('account.period')
    JournalPeriod = pool.get('account.journal.period')
    Sequence = pool.get('ir.sequence.strict')
    ids, new_journal_period = {s.id for s in sequences if s}, False
    for company, journal, date in entries:
        periods = Period.search([
                ('company', '=', company.id),
                ('start_date', '<=', date), ('end_date', '>=', date),
                ('type', '=', 'standard'),
                ], limit=1)
        if not periods:
            continue  # Tryton's own error follows
        period, = periods
        ids.add(period.move_sequence_used.id)
        for invoice_sequence in getattr(
                period.fiscalyear, 'invoice_sequences', []):
            ids.update(s.id for s in [
                    invoice_sequence.out_invoice_sequence,
                    invoice_sequence.out_credit_note_sequence,
                    invoice_sequence.in_invoice_sequence,
                    invoice_sequence.in_credit_note_sequence] if s)
        if journal and not JournalPeriod.search([
                    ('journal', '=', journal.id),
                    ('period', '=', period.id),
                    ], limit=1):
            new_journal_period = True
    if ids:
        Sequence.lock(Sequence.browse(sorted(ids)))
    if new_journal_period:
        JournalPeriod.lock()
