# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Record rules on every record a published method is given or reaches.

Tryton applies the read rules in SQL when records are searched or read
(ModelSQL.read), but:

- the methods published with `instantiate` (export_data, copy, resources,
  buttons, on_change, pre_validate, ...) get records made by RPC.convert
  (trytond/rpc.py) before `_check_access` is in the context, and records
  read their fields lazily without access checks
  (ModelStorage.__getattr__). Only some of these methods check the rules
  themselves (delete and ModelView.button, in SQL);
- export_data checks the records its field paths reach in Python with
  eval_domain, which takes a rule through a parent, such as
  ('party.company', 'in', [...]), for true whenever the parent is set:
  every address, identifier, variant or line of any business was exported.

Tryton has no hook between making the records and calling the method, so
RPC.convert is wrapped once, at import: the records it made, and those a
dict of values points at (on_change, pre_validate), are refused unless the
user's read rules select them in SQL. ExportRuleMixin (registered on every
ModelStorage) checks in SQL, level by level, the records export_data
reaches, whatever calls it (export_data_domain, REST actions), and the ids
history_revisions is given (a plain list, not made by RPC.convert).
"""
from collections import defaultdict

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Model, ModelStorage
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.rpc import RPC
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, check_access, without_check_access


def check_read_rules(records):
    """Raise AccessError unless the read rules of the user select every
    stored record of records (instances of any models)"""
    ids = defaultdict(set)
    for record in records:
        if (isinstance(record, ModelStorage) and record.id is not None
                and record.id >= 0):
            ids[record.__name__].add(record.id)
    for name, model_ids in ids.items():
        _check_model(name, model_ids)


def _check_model(name, ids):
    pool = Pool()
    Rule = pool.get('ir.rule')
    IrModel = pool.get('ir.model')
    Model_ = pool.get(name)
    with check_access():
        domain = Rule.domain_get(name, mode='read')
    if not domain:
        return
    found = set()
    with without_check_access(), \
            Transaction().set_context(active_test=False):
        for sub_ids in grouped_slice(sorted(ids), backend.MAX_QUERY_PARAMS):
            found.update(map(int, Model_.search(
                        [('id', 'in', list(sub_ids)), domain], order=[])))
    wrong = sorted(ids - found)
    if wrong:
        # Ids the user sent, and the model: nothing of the records
        raise AccessError(gettext('ir.msg_read_rule_error',
                ids=', '.join(map(str, wrong[:5])),
                model=IrModel.get_name(name), rules=''))


def _given(instantiate, args):
    """The records RPC.convert made of args (and for business users those
    their values point at: the platform administrators set up businesses
    they are not members of)"""
    from .isolation import _is_platform
    pointed = not _is_platform()
    if isinstance(instantiate, slice):
        values = args[instantiate]
    else:
        values = [args[instantiate]]
    for value in values:
        records = (value if isinstance(value, (list, tuple)) else [value])
        for record in records:
            if not isinstance(record, Model):
                continue
            if pointed:
                yield from _pointed(record, set())
            else:
                yield record


def _pointed(record, seen):
    """record and the records its values (given as a dict) point at,
    through Many2One, Reference and x2many values and parents"""
    if id(record) in seen:
        return
    seen.add(id(record))
    yield record
    values = getattr(record, '_values', None)
    for _, value in (values._items() if values is not None else []):
        if isinstance(value, Model):
            yield from _pointed(value, seen)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, Model):
                    yield from _pointed(item, seen)


_convert = RPC.convert


def _checked_convert(self, obj, *args, **kwargs):
    args, kwargs, context, timestamp = _convert(self, obj, *args, **kwargs)
    transaction = Transaction()
    if (self.instantiate is not None and context.get('_check_access')
            and transaction.user):
        with transaction.set_context(context):
            check_read_rules(_given(self.instantiate, args))
    return args, kwargs, context, timestamp


def install():
    if getattr(RPC.convert, 'monitorbizz_rule_check', False):
        return
    _checked_convert.monitorbizz_rule_check = True
    RPC.convert = _checked_convert


class ExportRuleMixin:
    "export_data reads only what the user's read rules select (see above)"
    __slots__ = ()

    @classmethod
    def export_data(cls, records, fields_names, header=False):
        transaction = Transaction()
        if transaction.user and transaction.check_access:
            cls._check_export_rules(records, fields_names)
        return super().export_data(records, fields_names, header=header)

    @classmethod
    def history_revisions(cls, ids):
        "Revisions (dates and authors) of the records the user reads only"
        transaction = Transaction()
        if transaction.user and transaction.check_access:
            check_read_rules(cls.browse(ids))
        return super().history_revisions(ids)

    @classmethod
    def _check_export_rules(cls, records, fields_names):
        "Check the records of each level of the field paths, in SQL"
        paths = [p.split('/') for p in fields_names]
        level = [(r, paths) for r in records]
        while level:
            check_read_rules(r for r, _ in level)
            next_level = []
            for record, paths in level:
                if not isinstance(record, ModelStorage):
                    continue
                # The records reached, also at the end of a path (whose
                # rec_name is exported)
                by_field = defaultdict(list)
                for path in paths:
                    if path:
                        by_field[_field_name(path[0])].append(path[1:])
                for name, sub_paths in by_field.items():
                    field = record._fields.get(name)
                    if field is None or field._type not in RELATIONS:
                        continue  # export_data names an unknown field
                    with without_check_access():
                        value = getattr(record, name)
                    values = (value if isinstance(value, (list, tuple))
                        else [value])
                    sub_paths = [p for p in sub_paths if p]
                    next_level.extend((v, sub_paths) for v in values
                        if isinstance(v, Model))
            level = next_level


RELATIONS = {'many2one', 'one2one', 'reference', 'one2many', 'many2many'}


def _field_name(name):
    "The field of an export path element (name.translated, name:lang=fr)"
    return name.split('.', 1)[0].split(':lang=', 1)[0]


install()
