import { EntitySchema } from '@mikro-orm/core';
import { Tenant } from '@shipyard/core';
import { TIMESTAMPTZ } from './define-schema.js';

export const LOG_SUBJECT_KINDS = ['build', 'deployment'] as const;

/**
 * A row of `log_chunks`: lines of a build's or a deployment's output written together. Not a
 * core entity (the core sees `LogChunk` through the `LogStore` port): no version, no
 * `updated_at`, and rows are only ever inserted and deleted.
 */
export class LogChunkRow {
  /** bigserial, read as a decimal string: the chunk's cursor. */
  id!: string;
  tenantId!: string;
  subjectKind!: (typeof LOG_SUBJECT_KINDS)[number];
  subjectId!: string;
  /** The lines joined by `\n`. */
  body!: string;
  lineCount!: number;
  createdAt!: Date;
}

export const LogChunkSchema = new EntitySchema<LogChunkRow>({
  class: LogChunkRow,
  tableName: 'log_chunks',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    tenantId: {
      kind: 'm:1',
      entity: () => Tenant,
      mapToPk: true,
      fieldName: 'tenant_id',
      deleteRule: 'cascade',
      updateRule: 'no action',
      foreignKeyName: 'log_chunks_tenant_id_foreign',
    },
    subjectKind: { enum: true, items: [...LOG_SUBJECT_KINDS] },
    subjectId: { type: 'uuid' },
    body: { type: 'text' },
    lineCount: { type: 'integer' },
    createdAt: { ...TIMESTAMPTZ, defaultRaw: 'now()' },
  },
  indexes: [
    // A subject's chunks in cursor order: reads, the trim after an append, removal.
    {
      name: 'log_chunks_tenant_id_subject_kind_subject_id_id_index',
      properties: ['tenantId', 'subjectKind', 'subjectId', 'id'],
    },
    // Cleanup of old chunks, platform-wide.
    { name: 'log_chunks_created_at_index', properties: ['createdAt'] },
  ],
});
