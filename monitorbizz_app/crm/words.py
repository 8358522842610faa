# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Amounts in words with the Indian numbering system (lakh, crore)"
from decimal import ROUND_HALF_UP, Decimal

_ONES = ['', 'One', 'Two', 'Three', 'Four', 'Five', 'Six', 'Seven', 'Eight',
    'Nine', 'Ten', 'Eleven', 'Twelve', 'Thirteen', 'Fourteen', 'Fifteen',
    'Sixteen', 'Seventeen', 'Eighteen', 'Nineteen']
_TENS = ['', '', 'Twenty', 'Thirty', 'Forty', 'Fifty', 'Sixty', 'Seventy',
    'Eighty', 'Ninety']


def _below_hundred(n):
    if n < 20:
        return _ONES[n]
    return ' '.join(filter(None, [_TENS[n // 10], _ONES[n % 10]]))


def _below_thousand(n):
    hundreds, rest = divmod(n, 100)
    words = []
    if hundreds:
        words.append(f'{_ONES[hundreds]} Hundred')
    if rest:
        words.append(_below_hundred(rest))
    return ' '.join(words)


def integer_in_words(n):
    """n in words: 12,34,56,789 is "Twelve Crore Thirty Four Lakh Fifty Six
    Thousand Seven Hundred Eighty Nine"; crores above 99 are counted in
    words again (100 crore is "One Hundred Crore")."""
    if n < 0:
        raise ValueError("negative amounts have no words")
    if n == 0:
        return 'Zero'
    crores, n = divmod(n, 10 ** 7)
    lakhs, n = divmod(n, 10 ** 5)
    thousands, n = divmod(n, 1000)
    words = []
    if crores:
        words.append(f'{integer_in_words(crores)} Crore')
    if lakhs:
        words.append(f'{_below_hundred(lakhs)} Lakh')
    if thousands:
        words.append(f'{_below_hundred(thousands)} Thousand')
    if n:
        words.append(_below_thousand(n))
    return ' '.join(words)


def rupees_in_words(amount):
    """"Rupees ... and ... Paise Only" for a Decimal amount, rounded to
    the paisa"""
    amount = Decimal(amount).quantize(Decimal('0.01'), ROUND_HALF_UP)
    if amount < 0:
        raise ValueError("negative amounts have no words")
    rupees = int(amount)
    paise = int((amount - rupees) * 100)
    text = f'Rupees {integer_in_words(rupees)}'
    if paise:
        text += f' and {integer_in_words(paise)} Paise'
    return text + ' Only'
