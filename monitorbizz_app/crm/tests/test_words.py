import unittest
from decimal import Decimal

from monitorbizz_app.crm.words import integer_in_words, rupees_in_words


class WordsTestCase(unittest.TestCase):
    "Amounts in words with lakhs and crores"

    def test_integers(self):
        for number, words in [
                (0, "Zero"),
                (7, "Seven"),
                (19, "Nineteen"),
                (40, "Forty"),
                (99, "Ninety Nine"),
                (100, "One Hundred"),
                (101, "One Hundred One"),
                (1000, "One Thousand"),
                (15635, "Fifteen Thousand Six Hundred Thirty Five"),
                (99999, "Ninety Nine Thousand Nine Hundred Ninety Nine"),
                (100000, "One Lakh"),
                (250000, "Two Lakh Fifty Thousand"),
                (1234567, "Twelve Lakh Thirty Four Thousand Five Hundred "
                    "Sixty Seven"),
                (10000000, "One Crore"),
                (123456789, "Twelve Crore Thirty Four Lakh Fifty Six "
                    "Thousand Seven Hundred Eighty Nine"),
                (1000000000000, "One Lakh Crore"),
                ]:
            with self.subTest(number=number):
                self.assertEqual(integer_in_words(number), words)

    def test_rupees(self):
        for amount, words in [
                ('15635.57', "Rupees Fifteen Thousand Six Hundred Thirty "
                    "Five and Fifty Seven Paise Only"),
                ('0.50', "Rupees Zero and Fifty Paise Only"),
                ('100000.00', "Rupees One Lakh Only"),
                ('99.995', "Rupees One Hundred Only"),
                ('1.005', "Rupees One and One Paise Only"),
                ]:
            with self.subTest(amount=amount):
                self.assertEqual(rupees_in_words(Decimal(amount)), words)

    def test_negative(self):
        with self.assertRaises(ValueError):
            rupees_in_words(Decimal('-1'))
