import test from 'ava';
import { type EntityName, MODEL } from '../domain/model.js';
import { isTenantRow, TENANT_ISOLATION } from './tenant-isolation.policy.js';

const entities = Object.keys(MODEL) as EntityName[];

test('the policy has a rule for every entity of the model, and only for those', (t) => {
  t.deepEqual(Object.keys(TENANT_ISOLATION).sort(), [...entities].sort());
});

for (const entity of entities) {
  test(`every hop from ${entity} to its tenant is a foreign key of the model that cascades`, (t) => {
    const rule = TENANT_ISOLATION[entity];
    let current: EntityName = entity;
    for (const hop of rule.path) {
      const fk = MODEL[current].foreignKeys.find((key) => key.field === hop.field);
      t.truthy(fk, `${current}.${hop.field} is a foreign key`);
      t.is(fk?.references, hop.entity, `${current}.${hop.field} references ${hop.entity}`);
      // A hop that could become null would leave the row in no tenant at all.
      t.is(fk?.onDelete, 'cascade', `${current}.${hop.field} cascades`);
      current = hop.entity;
    }
    if (rule.tenantField === 'id') {
      t.is(current, 'tenant', 'only the tenant row is scoped by its own id');
      t.is(rule.path.length, 0);
    } else {
      const fk = MODEL[current].foreignKeys.find((key) => key.field === rule.tenantField);
      t.is(fk?.references, 'tenant', `${current}.${rule.tenantField} references the tenant`);
      t.is(fk?.onDelete, 'cascade', `${current}.${rule.tenantField} cascades`);
    }
  });
}

test('only the tenant is scoped by its own row', (t) => {
  t.deepEqual(
    entities.filter((entity) => isTenantRow(entity)),
    ['tenant'],
  );
});
