"""The isolation bugs the suite knows of. Their cases are strict xfails:
they stay visible, and a fix shows up as XPASS (then remove it here).
Each reason says what leaks; the report of the suite has the reproduction.
"""
import pytest

import conftest as base  # tests/conftest.py

SEARCH, READ, WRITE, DELETE = 'search', 'read', 'write', 'delete'
ALL = (SEARCH, READ, WRITE, DELETE)
PROTOCOLS = ('jsonrpc', 'rest')

# Every leak this suite found so far is fixed (see git history of this file
# for what they were). Record a new one here, with its reason, rather than
# weakening a test.

# (reason, models, operations, protocols) of test_isolation.py
MODEL_BUGS = []
# test_methods.py: (model, method, protocol) -> reason; method is a generic
# method or '<button|report|wizard>:<name>'
METHOD_BUGS = {}
# test_business_api.py: (name, protocol) -> reason
RPC_BUGS = {}
# test_references.py: case -> reason
REFERENCE_BUGS = {}

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


def method_marks(model, method, protocol):
    return marks(METHOD_BUGS.get((model, method, protocol)))


def marks(reason, condition=True):
    return [xfail(reason)] if reason and condition else []


POSTGRESQL = base.IS_POSTGRESQL
