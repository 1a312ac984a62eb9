import { type FieldIssue, ValidationError } from '@shipyard/core';
import type { ZodType } from 'zod';
import type { z } from '../openapi/zod.js';

/** Paths of strings holding a NUL character (PostgreSQL text cannot store one). */
function nulStrings(value: unknown, path: string, found: string[], depth = 0): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) found.push(path === '' ? 'body' : path);
  } else if (typeof value === 'object' && value !== null && depth < 32) {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000')) found.push(path === '' ? 'body' : path);
      else nulStrings(item, path === '' ? key : `${path}.${key}`, found, depth + 1);
    }
  }
}

/** Turns zod issues into a `ValidationError` naming each field (unknown keys included). */
export function parse<T extends ZodType>(schema: T, value: unknown, prefix = ''): z.output<T> {
  const nul: string[] = [];
  nulStrings(value, prefix, nul);
  if (nul.length > 0) {
    throw new ValidationError(nul.map((field) => ({ field, message: 'must not contain NUL characters' })));
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: FieldIssue[] = [];
  for (const issue of result.error.issues) {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        issues.push({ field: path === '' ? key : `${path}.${key}`, message: 'is not allowed' });
    } else {
      issues.push({ field: path === '' ? 'body' : path, message: issue.message });
    }
  }
  throw new ValidationError(issues);
}
