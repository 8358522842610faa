"""The isolation bugs the suite knows of. Their cases are strict xfails:
they stay visible, and a fix shows up as XPASS (then remove it here).
Each reason says what leaks; the report of the suite has the reproduction.
"""
import pytest

import conftest as base  # tests/conftest.py

SEARCH, READ, WRITE, DELETE = 'search', 'read', 'write', 'delete'
ALL = (SEARCH, READ, WRITE, DELETE)
PROTOCOLS = ('jsonrpc', 'rest')

EMPLOYEE = ("company.employee has a company but no record rule: the "
    "employees of every business are listed, read, changed and (when no "
    "timesheet uses them) deleted by members of any other")
ALERT = ("quality.alert has a company but no record rule: the quality "
    "alerts of every business are listed, read, changed and deleted by "
    "members of any other")
USERS = ("res.user is readable by every user: the login, e-mail, name and "
    "current business of the members of every business are listed")
PRODUCT_BOM = ("product.product-production.bom (a product's BOMs and "
    "routings) has no record rule: the links of every business are listed "
    "(with the BOM's name), changed and deleted by members of any other")
REST_INTERNAL = ("Tryton REST serves every ModelSQL, also those JSON-RPC "
    "refuses (no __rpc__): these per-business values and relation tables "
    "have neither access rights nor record rules, so a REST key lists, "
    "reads, changes and deletes those of every business (cost prices, "
    "default accounts, the taxes of sale, purchase and invoice lines, the "
    "res.user-company.company rows that make a user a member, ...)")
STATE_CHECK = ("deleting (or writing) a record of another business "
    "through JSON-RPC is refused by the model's own check (\"To delete "
    "shipment ... you must cancel it\"), which runs before the record "
    "rules: the error tells the record's number or name and its state")
OWNER_MESSAGE = ("the business module's RPC refuse a non-member with "
    "msg_owner_only, which names the business ('Only an owner of "
    "\"<name>\" can do this.'): any user turns business ids into names")
VALIDATION_MESSAGE = ("a reference to another business is refused by the "
    "field's domain (the company of the context), validated before the "
    "business module's cross-business check: the error gives the name of "
    "the other business's record ('The value \"<name>\" for field ... is "
    "not valid according to its domain'), so ids can be turned into names")
REST_PRIVATE_CONTEXT = ("Tryton REST passes X-Tryton-Context to the "
    "transaction as is, private keys included (JSON-RPC drops keys "
    "starting with '_'): {'_companies': [Y]} makes "
    "res.user.get_companies() answer Y, so the record rules of every "
    "business model let a REST key list, read and change the records of "
    "any business")
REST_JOIN = ("Tryton REST serves res.user-company.company, which has no "
    "access rights nor rules: a REST key adds its user to any business, "
    "then res.user.switch_business lets it work there and read the "
    "business's customers")
ADMIN_DEFAULTS = ("res.user.create puts a new user in the administrator's "
    "current business (company module defaults) without a membership: the "
    "user lists that business's customers")
NUMBERING = ("creating a customer with another business in the context is "
    "refused, but the customer code is drawn first from that business's "
    "sequence, and PostgreSQL sequences are not rolled back: a gap in the "
    "other business's numbering")

SHARED_MASTERS = ("product categories and routing operations (like "
    "machine types) are made by each business in its flows but have no "
    "business: every member of any business lists, reads and renames "
    "them (and deletes the unused ones)")

# (reason, models, operations, protocols) of test_isolation.py
MODEL_BUGS = [
    (EMPLOYEE, ['company.employee'], ALL, PROTOCOLS),
    (ALERT, ['quality.alert'], ALL, PROTOCOLS),
    (USERS, ['res.user'], (SEARCH, READ), PROTOCOLS),
    (PRODUCT_BOM, ['product.product-production.bom'], ALL, PROTOCOLS),
    (REST_INTERNAL, [
            'account.configuration.default_account',
            'account.configuration.default_tax_rule',
            'account.configuration.journal',
            'account.configuration.payment_group_sequence',
            'account.configuration.payment_reference',
            'account.configuration.payment_sequence',
            'account.configuration.sequence',
            'account.configuration.tax_rounding',
            'party.party.account', 'party.party.credit_limit_amount',
            'party.party.lang', 'party.party.payment_direct_debit',
            'product.category.account', 'product.cost_price',
            'product.cost_price_method', 'product.list_price',
            'production.configuration.production_sequence',
            'purchase.configuration.sequence', 'sale.configuration.sequence',
            'res.user-company.company',
            'account.invoice.line-stock.move',
            'account.invoice.line-account.tax', 'sale.line-account.tax',
            'purchase.line-account.tax', 'party.party.location',
            'party.party.payment_term', 'production.routing-production.bom',
            'stock.location.waste'], ALL, ['rest']),
    (STATE_CHECK, ['production', 'sale.line', 'sale.opportunity',
            'sale.sale', 'stock.inventory', 'stock.move',
            'stock.shipment.out', 'stock.inventory.line',
            'account.journal.period'], (DELETE,), ['jsonrpc']),
    (STATE_CHECK, ['account.journal.period'], (WRITE,), ['jsonrpc']),
    ]
# test_business_api.py: (name, protocol) -> reason
RPC_BUGS = {(name, 'jsonrpc'): OWNER_MESSAGE for name in [
        'update_profile', 'set_member_role', 'remove_member', 'invite']}
# test_references.py: case -> reason
REFERENCE_BUGS = {
    'production.work_center': VALIDATION_MESSAGE,
    'timesheet.line.work': VALIDATION_MESSAGE,
    }

_BY_CASE = {}
for _reason, _models, _operations, _protocols in MODEL_BUGS:
    for _model in _models:
        for _operation in _operations:
            for _protocol in _protocols:
                _BY_CASE[_model, _operation, _protocol] = _reason


def xfail(reason):
    "The mark of a known bug: a failed assertion, nothing else"
    return pytest.mark.xfail(strict=True, reason=reason,
        raises=AssertionError)


def model_marks(model, operation, protocol):
    reason = _BY_CASE.get((model, operation, protocol))
    return [xfail(reason)] if reason else []


def marks(reason, condition=True):
    return [xfail(reason)] if reason and condition else []


POSTGRESQL = base.IS_POSTGRESQL
