import { schemaDrift } from '@shipyard/adapters-db/testing';
import test from 'ava';

test('the migrations build exactly the schema of the mappings (migrate:create would write nothing)', async (t) => {
  t.is(await schemaDrift(), '');
});
