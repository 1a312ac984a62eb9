import { ValidationError } from './app.errors.js';
import { Entity, type NewEntity } from './entity.js';
import { text } from './validate.js';

const SLUG = /^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/;

/** Turns a display name into a slug candidate (`"Acme Corp!"` → `"acme-corp"`). */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50)
    .replace(/-+$/, '');
  return slug.length >= 3 ? slug : `tenant-${slug}`.replace(/-+$/, '');
}

export class Tenant extends Entity {
  name!: string;
  /** Unique across the platform; lowercase letters, digits and hyphens. */
  slug!: string;

  static create(ctx: NewEntity, input: { name: string; slug: string }): Tenant {
    const tenant = new Tenant();
    tenant.init(ctx);
    tenant.name = text('name', input.name, { max: 100 });
    tenant.slug = Tenant.checkSlug(input.slug);
    return tenant;
  }

  static checkSlug(slug: unknown): string {
    if (typeof slug !== 'string' || !SLUG.test(slug)) {
      throw ValidationError.field('slug', 'must be 3 to 63 lowercase letters, digits or hyphens');
    }
    return slug;
  }

  update(changes: { name?: string; slug?: string }, now: Date): void {
    if (changes.name !== undefined) this.name = text('name', changes.name, { max: 100 });
    if (changes.slug !== undefined) this.slug = Tenant.checkSlug(changes.slug);
    this.touch(now);
  }

  /**
   * Marks a change to the tenant's owners. Transactions that change owners write the tenant row,
   * so two of them racing (each demoting a different last-but-one owner) conflict instead of
   * leaving the tenant without an owner.
   */
  lockOwnership(now: Date): void {
    this.touch(now);
  }
}
