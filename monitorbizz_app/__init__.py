"""Monitorbizz: a manufacturing ERP + CRM for small workshops, built as
Tryton 8.0 modules (one per bounded context)."""
