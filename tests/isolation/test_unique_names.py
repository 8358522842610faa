"""Names and codes unique within one business: a business names its tags,
item categories and machine types as it likes, whatever another business
holds, and a refusal never tells what another business holds."""
import json
import uuid


def _customer(actor, name, tags):
    return actor.api('POST', '/api/crm/customers',
        json={'name': name, 'tags': tags})


def test_same_tag_in_two_businesses(world):
    """A tag (party.category) that exists only in Y is created in X too:
    through the seed API (a customer with the tag) and JSON-RPC"""
    tag = f'Key account {uuid.uuid4().hex[:6]}'
    response = _customer(world.b, f'Y customer {world.tag}', [tag])
    assert response.status_code == 201, response.text
    response = _customer(world.a, f'X customer {world.tag}', [tag])
    assert response.status_code == 201, response.text
    assert response.json()['tags'] == [tag]
    owners = world.truth.query('SELECT company FROM party_category '
        'WHERE name = %s ORDER BY company', (tag,))
    assert owners == sorted([(world.x,), (world.y,)])

    other = f'{tag} rpc'
    assert world.b.rpc('party.category', 'create', [{'name': other}]).ok
    out = world.a.rpc('party.category', 'create', [{'name': other}])
    assert out.ok, out


def test_same_tag_twice_in_one_business(world):
    "Within one business the name stays unique, and the refusal says so"
    tag = f'Twice {uuid.uuid4().hex[:6]}'
    assert world.a.rpc('party.category', 'create', [{'name': tag}]).ok
    out = world.a.rpc('party.category', 'create', [{'name': tag}])
    assert not out.ok
    assert 'already has a tag of this name' in json.dumps(out.error), out


def test_same_category_code_in_two_businesses(world):
    """Item categories (product.category) with one code in X and Y; the
    code stays unique within a business"""
    code = f'CAT-{uuid.uuid4().hex[:6]}'
    values = [{'name': 'Castings', 'code': code}]
    assert world.b.rpc('product.category', 'create', values).ok
    out = world.a.rpc('product.category', 'create', values)
    assert out.ok, out
    out = world.a.rpc('product.category', 'create', values)
    assert not out.ok
    text = json.dumps(out.error)
    assert 'already has a category with this code' in text, out
    assert world.label[world.y] not in text


def test_same_machine_type_in_two_businesses(world):
    "Machine types (production.work.center.category) of one name in X and Y"
    name = f'CNC lathe {uuid.uuid4().hex[:6]}'
    for actor in [world.b, world.a]:
        out = actor.rpc('production.work.center.category', 'create',
            [{'name': name}])
        assert out.ok, out
